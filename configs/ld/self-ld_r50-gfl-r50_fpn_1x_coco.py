# LD README Self-LD: GFL R-50 1x teacher (40.1) -> R-50 student: 40.1 -> 40.6 AP.
_base_ = './ld_r50-gfl-r101_fpn_1x_coco.py'
model = dict(
    teacher_config='{{ fileDirname }}/../gfl/gfl_r50_fpn_1x_coco.py',
    teacher_ckpt='data/teachers/gfl_r50_fpn_1x_coco.pth')
