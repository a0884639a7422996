# LD README, VOC 07+12 -> VOC2007 test: GFL R-101 -> R-18, 4 epochs (train set x3), main region only:
# 51.8 -> 53.0 AP (COCO-style AP in the README; VOCMetric here also reports the 11-point mAP).
# Teacher: a GFL R-101 trained on VOC with ../gfl/gfl_r101_fpn_16e_voc.py (16 epochs, step 12).
_base_ = '../gfl/gfl_r18_fpn_4e_voc.py'
model = dict(
    type='KDSingleStageDetector',
    teacher_config='{{ fileDirname }}/../gfl/gfl_r101_fpn_16e_voc.py',
    teacher_ckpt='data/teachers/gfl_r101_fpn_16e_voc.pth',
    bbox_head=dict(
        type='LDHead',
        loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.25, T=10),
        loss_ld_vlr=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0, T=10),
        loss_kd=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0, T=2),
        loss_kd_vlr=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0, T=2)))
