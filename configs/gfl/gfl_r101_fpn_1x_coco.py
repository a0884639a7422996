# GFL R-101-FPN 1x COCO.
_base_ = './gfl_r50_fpn_1x_coco.py'
model = dict(backbone=dict(depth=101, init_cfg=dict(checkpoint='data/pretrained/resnet101.pth')))
