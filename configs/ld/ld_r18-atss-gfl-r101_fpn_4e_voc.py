# LD on an ATSS student, VOC 07+12 -> VOC2007 test, 4 epochs: ATSS-GFL R-101 (16e VOC) -> ATSS-GFL R-18
# (LDATSSHead defaults as configs/ld/ld_r50-atss-gfl-r101_fpn_1x_coco.py; no published VOC numbers).
_base_ = '../gfl/atss-gfl_r18_fpn_4e_voc.py'
model = dict(
    type='KDSingleStageDetector',
    teacher_config='{{ fileDirname }}/../gfl/atss-gfl_r101_fpn_16e_voc.py',
    teacher_ckpt='data/teachers/atss-gfl_r101_fpn_16e_voc.pth',
    bbox_head=dict(type='LDATSSHead'))
