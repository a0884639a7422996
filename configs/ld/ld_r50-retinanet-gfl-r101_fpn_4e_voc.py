# LD for RetinaNet on VOC (our variant; the LD repository ships only the COCO row): RetinaNet-GFL R-101
# (16 epochs) -> R-50, 4 epochs, the loss weights of ./ld_r50-retinanet-gfl-r101_fpn_1x_coco.py.
_base_ = '../gfl/retinanet-gfl_r50_fpn_4e_voc.py'
model = dict(
    type='KDSingleStageDetector',
    teacher_config='{{ fileDirname }}/../gfl/retinanet-gfl_r101_fpn_16e_voc.py',
    teacher_ckpt='data/teachers/retinanet-gfl_r101_fpn_16e_voc.pth',
    bbox_head=dict(
        type='LDRetinaHead',
        loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=5, T=10),
        loss_ld_vlr=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.15, T=10),
        loss_kd=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=10, T=8)))
