# LD README: GFLv2 R-101-DCN (ms-2x) -> GFLv2 R-101, ms-2x COCO, Main LD only (as the HikariTJU/LD
# file ld_gflv2_r101dcn_r101_fpn_coco_2x). The teacher checkpoint is a LOCAL file.
_base_ = '../gfl/gflv2_r101_fpn_2x_coco.py'
model = dict(
    type='KDSingleStageDetector',
    teacher_config='{{ fileDirname }}/../gfl/gflv2_r101-dcn_fpn_ms-2x_coco.py',
    teacher_ckpt='data/teachers/gflv2_r101-dcn_fpn_ms-2x_coco.pth',
    bbox_head=dict(
        type='LDGFLv2Head',
        loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.25, T=10),
        loss_ld_vlr=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0, T=10),
        loss_kd=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0, T=2),
        loss_kd_vlr=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0, T=2)))
