# LD README: GFL R-101 -> R-34, 1x, main region only: 38.9 -> 39.8 AP (AP75 42.2 -> 43.1).
_base_ = './ld_r18-gfl-r101_fpn_1x_coco.py'
model = dict(backbone=dict(depth=34, init_cfg=dict(checkpoint='data/pretrained/resnet34.pth')))
