# LD README: GFL R-101 (ms-2x, 44.7) -> R-18, 1x, main distillation region only:
# 35.8 -> 36.5 AP (AP75 38.2 -> 39.3); mmdet reproduction 36.5.
# Student = ../gfl/gfl_r18_fpn_1x_coco.py (ImageNet-initialised, not a trained detector).
# The teacher checkpoint is a LOCAL file (ours or mmdet's
# gfl_r101_fpn_mstrain_2x_coco_20200629_200126-dd12f847.pth, same layer names).
# Loss reduction is the reference 'sum' (scale grows with images per GPU): keep <= 3 images/GPU,
# or set bbox_head.distill_cfg.ld_normalize='mean' and retune loss_ld (docs/method.md §10).
_base_ = '../gfl/gfl_r18_fpn_1x_coco.py'
model = dict(
    type='KDSingleStageDetector',
    teacher_config='{{ fileDirname }}/../gfl/gfl_r101_fpn_ms-2x_coco.py',
    teacher_ckpt='data/teachers/gfl_r101_fpn_ms-2x_coco.pth',
    bbox_head=dict(
        type='LDHead',
        loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.25, T=10),
        # README "main region" rows: VLR LD and KD off (weight 0: logged as 0, not computed;
        # the reference head still builds them with its defaults)
        loss_ld_vlr=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0, T=10),
        loss_kd=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0, T=2),
        loss_kd_vlr=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0, T=2)))
