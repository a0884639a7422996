# Rotated-LD (Zzh-tju/Rotated-LD, KLD student): R-34 distribution rotated RetinaNet teacher (KLD, 2x) ->
# R-18 student (KLD, 1x), LD on all 5 delta distributions + KD on the class logits, T 5, weights 15 / 15,
# one region: priors whose axis-aligned IoU with a GT >= 0.25 x (ATSS mean + std), weight = that IoU,
# normalised per level by the region size. Rotated-LD README (DOTA-v1.0 val, 2 GPUs x 1 image):
# R-RetinaNet AP 33.7 -> 39.1, AP50 58.0 -> 63.8. The student starts from ImageNet weights, not a detector.
# The teacher checkpoint is a LOCAL file (train the teacher config first).
_base_ = '../rotated_retinanet/rotated_retinanet_distribution_kld_r18_fpn_1x_dota_oc.py'
model = dict(
    type='KDSingleStageDetector',
    teacher_config='{{ fileDirname }}/../rotated_retinanet/rotated_retinanet_distribution_kld_r34_fpn_2x_dota_oc.py',
    teacher_ckpt='data/teachers/rotated_retinanet_distribution_kld_r34_fpn_2x_dota_oc.pth',
    bbox_head=dict(
        type='RotatedLDRetinaHead',
        loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=15, T=5),
        loss_kd=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=15, T=5),
        region='rotated_ld',
        region_alpha=0.25,
        region_topk=9,
        region_gt='ignore_angle',
        normalize='level'))
