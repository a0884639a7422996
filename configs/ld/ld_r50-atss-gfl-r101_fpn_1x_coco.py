# LD on an ATSS student (HikariTJU/LD configs/ld/ld_r50_atss_r101_1x.py): ATSS-GFL R-101 (ms-2x) -> ATSS-GFL
# R-50, 1x COCO. LDATSSHead: Main LD 0.25 (T 10) on positives, Main KD 10 (T 2), loss_ld_neg = VLR LD
# at 0.15 x 0.25 (Σ/4) on the remaining negatives (docs/ld.md, "ATSS and FCOS students").
_base_ = '../gfl/atss-gfl_r50_fpn_1x_coco.py'
model = dict(
    type='KDSingleStageDetector',
    teacher_config='{{ fileDirname }}/../gfl/atss-gfl_r101_fpn_ms-2x_coco.py',
    teacher_ckpt='data/teachers/atss-gfl_r101_fpn_ms-2x_coco.pth',
    bbox_head=dict(type='LDATSSHead'))
