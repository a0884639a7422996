# LD README: GFL R-101 -> R-50, 1x, main region only: 40.1 -> 41.1 AP (AP75 43.1 -> 44.9).
_base_ = './ld_r18-gfl-r101_fpn_1x_coco.py'
model = dict(
    backbone=dict(depth=50, init_cfg=dict(checkpoint='data/pretrained/resnet50.pth')),
    neck=dict(in_channels=[256, 512, 1024, 2048]))
