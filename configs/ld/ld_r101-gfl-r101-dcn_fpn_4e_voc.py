# LD README, VOC: GFL R-101-DCN -> R-101, 4 epochs, main region only: 57.6 -> 58.4 AP.
_base_ = './ld_r34-gfl-r101-dcn_fpn_4e_voc.py'
model = dict(
    backbone=dict(depth=101, init_cfg=dict(checkpoint='data/pretrained/resnet101.pth')),
    neck=dict(in_channels=[256, 512, 1024, 2048]))
