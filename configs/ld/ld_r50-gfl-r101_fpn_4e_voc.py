# LD README, VOC: GFL R-101 -> R-50, 4 epochs, main region only: 55.8 -> 56.1 AP.
_base_ = './ld_r18-gfl-r101_fpn_4e_voc.py'
model = dict(
    backbone=dict(depth=50, init_cfg=dict(checkpoint='data/pretrained/resnet50.pth')),
    neck=dict(in_channels=[256, 512, 1024, 2048]))
