# GFL R-34-FPN 1x COCO (LD README student baseline: 38.9 AP).
_base_ = './gfl_r50_fpn_1x_coco.py'
model = dict(
    backbone=dict(depth=34, init_cfg=dict(checkpoint='data/pretrained/resnet34.pth')),
    neck=dict(in_channels=[64, 128, 256, 512]))
