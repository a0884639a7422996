# GFL R-18-FPN VOC 4e (LD README student baseline: 51.8 AP).
_base_ = './gfl_r50_fpn_4e_voc.py'
model = dict(
    backbone=dict(depth=18, init_cfg=dict(checkpoint='data/pretrained/resnet18.pth')),
    neck=dict(in_channels=[64, 128, 256, 512]))
