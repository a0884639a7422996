# Self-LD on the synthetic VOC-layout set (the slim counterpart of ./self-ld_r18-gfl-r18_fpn_12e_voc.py, the
# LD repository's ld_r18_self_2x_3x_voc): teacher = ../gfl/gfl_r18-slim_fpn_synthetic_voc.py trained first,
# student = the same architecture from scratch, main-region LD only (as that row).
#   python tools/train.py configs/gfl/gfl_r18-slim_fpn_synthetic_voc.py
#   python tools/train.py configs/ld/self-ld_r18-slim-gfl-r18-slim_fpn_synthetic_voc.py \
#       --cfg-options model.teacher_ckpt=work_dirs/gfl_r18-slim_fpn_synthetic_voc/epoch_12.pth
_base_ = '../gfl/gfl_r18-slim_fpn_synthetic_voc.py'
model = dict(
    type='KDSingleStageDetector',
    teacher_config='{{ fileDirname }}/../gfl/gfl_r18-slim_fpn_synthetic_voc.py',
    teacher_ckpt='work_dirs/gfl_r18-slim_fpn_synthetic_voc/epoch_12.pth',
    bbox_head=dict(
        type='LDHead',
        loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.25, T=10),
        loss_ld_vlr=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0, T=10),
        loss_kd=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0, T=2),
        loss_kd_vlr=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0, T=2)))
