# GFL R-18-FPN 1x COCO (LD README student baseline: 35.8 AP).
_base_ = './gfl_r50_fpn_1x_coco.py'
model = dict(
    backbone=dict(depth=18, init_cfg=dict(checkpoint='data/pretrained/resnet18.pth')),
    neck=dict(in_channels=[64, 128, 256, 512]))
