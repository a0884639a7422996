# LD README: GFL R-101-DCN (ms-2x, 47.1) -> R-101, ms-2x, main region only: 44.6 -> 45.4 AP
# (AP75 48.4 -> 49.5); mmdet reproduction 45.5.
_base_ = '../gfl/gfl_r101_fpn_ms-2x_coco.py'
model = dict(
    type='KDSingleStageDetector',
    teacher_config='{{ fileDirname }}/../gfl/gfl_r101-dcn_fpn_ms-2x_coco.py',
    teacher_ckpt='data/teachers/gfl_r101-dcn_fpn_ms-2x_coco.pth',
    bbox_head=dict(
        type='LDHead',
        loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.25, T=10),
        loss_ld_vlr=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0, T=10),
        loss_kd=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0, T=2),
        loss_kd_vlr=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0, T=2)))
