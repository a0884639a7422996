# LD on an FCOS student, VOC 07+12 -> VOC2007 test, 4 epochs: FCOS-GFL R-101 (16e VOC) -> FCOS-GFL R-18
# (LDFCOSHead defaults as configs/ld/ld_r50-fcos-gfl-r101_fpn_1x_coco.py; no published VOC numbers).
_base_ = '../gfl/fcos-gfl_r18_fpn_4e_voc.py'
model = dict(
    type='KDSingleStageDetector',
    teacher_config='{{ fileDirname }}/../gfl/fcos-gfl_r101_fpn_16e_voc.py',
    teacher_ckpt='data/teachers/fcos-gfl_r101_fpn_16e_voc.pth',
    bbox_head=dict(type='LDFCOSHead'))
