# LD on an FCOS student (HikariTJU/LD configs/ld/ld_r50_fcos_r101_1x.py): FCOS-GFL R-101 (ms-2x) -> FCOS-GFL
# R-50, 1x COCO. LDFCOSHead: Main LD 0.25 (T 10) on positives, Main KD 10 (T 2), loss_ld_neg on points inside
# a GT that are not positive, weighted by the student quality, at 0.25 x 0.25 (Σ/4) (docs/ld.md).
_base_ = '../gfl/fcos-gfl_r50_fpn_1x_coco.py'
model = dict(
    type='KDSingleStageDetector',
    teacher_config='{{ fileDirname }}/../gfl/fcos-gfl_r101_fpn_ms-2x_coco.py',
    teacher_ckpt='data/teachers/fcos-gfl_r101_fpn_ms-2x_coco.pth',
    bbox_head=dict(type='LDFCOSHead'))
