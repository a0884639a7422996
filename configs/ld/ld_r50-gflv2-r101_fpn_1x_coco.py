# LD README: GFLv2 R-101 (ms-2x) -> GFLv2 R-50, 1x COCO, Main LD only (as the HikariTJU/LD file
# ld_gflv2_r101_r50_fpn_coco_1x: LDGFLv2Head with LD 0.25, T 10; no VLR, no KD).
# Student = ../gfl/gflv2_r50_fpn_1x_coco.py. The teacher checkpoint is a LOCAL file.
_base_ = '../gfl/gflv2_r50_fpn_1x_coco.py'
model = dict(
    type='KDSingleStageDetector',
    teacher_config='{{ fileDirname }}/../gfl/gflv2_r101_fpn_2x_coco.py',
    teacher_ckpt='data/teachers/gflv2_r101_fpn_2x_coco.pth',
    bbox_head=dict(
        type='LDGFLv2Head',
        loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.25, T=10),
        # Main region only (weight 0: logged as 0, not computed)
        loss_ld_vlr=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0, T=10),
        loss_kd=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0, T=2),
        loss_kd_vlr=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0, T=2)))
