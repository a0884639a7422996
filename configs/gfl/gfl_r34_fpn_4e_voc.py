# GFL R-34-FPN VOC 4e (LD README student baseline: 55.7 AP).
_base_ = './gfl_r50_fpn_4e_voc.py'
model = dict(
    backbone=dict(depth=34, init_cfg=dict(checkpoint='data/pretrained/resnet34.pth')),
    neck=dict(in_channels=[64, 128, 256, 512]))
