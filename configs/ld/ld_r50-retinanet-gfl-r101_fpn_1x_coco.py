# LD for RetinaNet (HikariTJU/LD configs/ld/ld_retina_r50_1x.py): RetinaNet-GFL R-101 ms-2x teacher ->
# R-50 student with the same distribution box branch, 1x. LDRetinaHead = the LD repository's rules
# (docs/ld.md "RetinaNet students"): Main LD 5 T 10 on the positives (quality-weighted, one softmax over the
# anchor's 68 edge bins), VLR LD 0.15 T 10 (upstream loss_ld_neg = 0.03 x loss_ld), Main KD 10 T 8.
# The teacher checkpoint is a LOCAL file (ours, or the LD repository's with atss_* keys renamed to retina_*).
_base_ = '../gfl/retinanet-gfl_r50_fpn_1x_coco.py'
model = dict(
    type='KDSingleStageDetector',
    teacher_config='{{ fileDirname }}/../gfl/retinanet-gfl_r101_fpn_ms-2x_coco.py',
    teacher_ckpt='data/teachers/retinanet-gfl_r101_fpn_ms-2x_coco.pth',
    bbox_head=dict(
        type='LDRetinaHead',
        loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=5, T=10),
        loss_ld_vlr=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.15, T=10),
        loss_kd=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=10, T=8)))
