# GFL R-101-FPN VOC 4e (LD README student baseline: 57.6 AP).
_base_ = './gfl_r50_fpn_4e_voc.py'
model = dict(backbone=dict(depth=101, init_cfg=dict(checkpoint='data/pretrained/resnet101.pth')))
