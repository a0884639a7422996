# LD README, VOC 07+12 -> VOC2007 test: GFL R-101 -> R-18, 4 epochs (train set x3), main region only:
# 51.8 -> 53.0 AP (COCO-style AP in the README; VOCMetric here also reports the 11-point mAP).
# Teacher: a GFL R-101 trained on VOC with ../gfl/gfl_r101_fpn_16e_voc.py (16 epochs, step 12).
_base_ = [
    '../_base_/models/gfl_r50_fpn.py',
    '../_base_/datasets/voc0712.py',
    '../_base_/schedules/schedule_voc_4e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='KDSingleStageDetector',
    teacher_config='{{ fileDirname }}/../gfl/gfl_r101_fpn_16e_voc.py',
    teacher_ckpt='data/teachers/gfl_r101_fpn_16e_voc.pth',
    backbone=dict(depth=18, init_cfg=dict(checkpoint='data/pretrained/resnet18.pth')),
    neck=dict(in_channels=[64, 128, 256, 512]),
    bbox_head=dict(
        type='LDHead',
        num_classes=20,
        loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.25, T=10),
        loss_ld_vlr=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0, T=10),
        loss_kd=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0, T=2),
        loss_kd_vlr=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0, T=2)))
