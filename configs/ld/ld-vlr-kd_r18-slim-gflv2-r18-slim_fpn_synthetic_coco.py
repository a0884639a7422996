# LD GFLv2 student on the synthetic COCO-format set (tests): teacher =
# ../gfl/gflv2_r18-slim_fpn_synthetic_coco.py trained first; student = the same slim GFLv2 from
# scratch with Main LD + VLR LD + Main KD (LDGFLv2Head, docs/ld.md "GFLv2").
#   python tools/train.py configs/gfl/gflv2_r18-slim_fpn_synthetic_coco.py
#   python tools/train.py configs/ld/ld-vlr-kd_r18-slim-gflv2-r18-slim_fpn_synthetic_coco.py \
#       --cfg-options model.teacher_ckpt=work_dirs/gflv2_r18-slim_fpn_synthetic_coco/epoch_12.pth
_base_ = '../gfl/gflv2_r18-slim_fpn_synthetic_coco.py'
model = dict(
    type='KDSingleStageDetector',
    teacher_config='{{ fileDirname }}/../gfl/gflv2_r18-slim_fpn_synthetic_coco.py',
    teacher_ckpt='work_dirs/gflv2_r18-slim_fpn_synthetic_coco/epoch_12.pth',
    bbox_head=dict(
        type='LDGFLv2Head',
        loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.25, T=10),
        loss_ld_vlr=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.25, T=10),
        loss_kd=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=10, T=2),
        loss_kd_vlr=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0, T=2)))
