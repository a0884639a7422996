# GFL R-101-FPN ms-2x COCO: the LD teacher (LD README: 44.7 AP).
_base_ = './gfl_r50_fpn_ms-2x_coco.py'
model = dict(backbone=dict(depth=101, init_cfg=dict(checkpoint='data/pretrained/resnet101.pth')))
