# Synthetic scenes: Rotated-LD (KLD student, LD 15 / KD 15, T 5) from the slim R-34 teacher to the slim R-18.
#   python tools/train.py configs/rotated_retinanet/rotated_retinanet_distribution_kld_r34-slim_fpn_synthetic_dota_oc.py \
#       --cfg-options train_cfg.max_iters=400
#   python tools/train.py configs/rotated_ld_retinanet/rotated_ld_r18-slim-rretinanet-r34-slim_fpn_synthetic_dota_oc.py \
#       --cfg-options model.teacher_ckpt=work_dirs/rotated_retinanet_distribution_kld_r34-slim_fpn_synthetic_dota_oc/iter_400.pth
# (benchmarks/bench_distill_gain.py runs exactly this, with the demo's data, over several seeds)
_base_ = '../rotated_retinanet/rotated_retinanet_distribution_kld_r18-slim_fpn_synthetic_dota_oc.py'
model = dict(
    type='KDSingleStageDetector',
    teacher_config='{{ fileDirname }}/../rotated_retinanet/'
                   'rotated_retinanet_distribution_kld_r34-slim_fpn_synthetic_dota_oc.py',
    teacher_ckpt='work_dirs/rotated_retinanet_distribution_kld_r34-slim_fpn_synthetic_dota_oc/iter_400.pth',
    bbox_head=dict(
        type='RotatedLDRetinaHead',
        loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=15, T=5),
        loss_kd=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=15, T=5),
        region='rotated_ld',
        normalize='level'))
