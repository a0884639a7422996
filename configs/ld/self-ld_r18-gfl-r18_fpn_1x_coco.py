# LD README Self-LD: teacher = the same architecture trained normally (GFL R-18 1x, 35.8),
# student trained from ImageNet weights with LD: 35.8 -> 36.1 AP.
_base_ = './ld_r18-gfl-r101_fpn_1x_coco.py'
model = dict(
    teacher_config='{{ fileDirname }}/../gfl/gfl_r18_fpn_1x_coco.py',
    teacher_ckpt='data/teachers/gfl_r18_fpn_1x_coco.pth')
