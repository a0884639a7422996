# LD README, VOC: GFL R-101-DCN -> R-34, 4 epochs, main region only: 55.7 -> 56.7 AP.
_base_ = './ld_r18-gfl-r101_fpn_4e_voc.py'
model = dict(
    teacher_config='{{ fileDirname }}/../gfl/gfl_r101-dcn_fpn_16e_voc.py',
    teacher_ckpt='data/teachers/gfl_r101-dcn_fpn_16e_voc.pth',
    backbone=dict(depth=34, init_cfg=dict(checkpoint='data/pretrained/resnet34.pth')))
