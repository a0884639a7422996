# Synthetic COCO-format set (tools/data/synthetic/make_hbox_sets.py): the CPU demo / tests of LD.
# Teacher = ../gfl/gfl_r18-slim_fpn_synthetic_coco.py trained first; student = the same slim
# architecture from scratch (Self-LD) with Main LD + VLR LD + Main KD.
#   python tools/train.py configs/gfl/gfl_r18-slim_fpn_synthetic_coco.py
#   python tools/train.py configs/ld/ld-vlr-kd_r18-slim-gfl-r18-slim_fpn_synthetic_coco.py \
#       --cfg-options model.teacher_ckpt=work_dirs/gfl_r18-slim_fpn_synthetic_coco/epoch_12.pth
_base_ = '../gfl/gfl_r18-slim_fpn_synthetic_coco.py'
model = dict(
    type='KDSingleStageDetector',
    teacher_config='{{ fileDirname }}/../gfl/gfl_r18-slim_fpn_synthetic_coco.py',
    teacher_ckpt='work_dirs/gfl_r18-slim_fpn_synthetic_coco/epoch_12.pth',
    bbox_head=dict(
        type='LDHead',
        loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.25, T=10),
        loss_ld_vlr=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.25, T=10),
        loss_kd=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=10, T=2),
        loss_kd_vlr=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0, T=2)))
