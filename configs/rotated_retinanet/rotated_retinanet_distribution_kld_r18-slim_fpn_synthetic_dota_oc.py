# Synthetic DOTA-format scenes (configs/_base_/datasets/synthetic_dota.py; CPU demo / tests / quick runs):
# distribution rotated RetinaNet with the KLD loss, slim R-18 from scratch (trainable BN, FPN 128 ch,
# 2-conv towers of 128 ch), 384 px, angle version oc; AdamW 1e-3 (docs/cpu_training.md).
# Plain student / R-34 teacher / LD student of the same setting:
#   rotated_retinanet_r18-slim_fpn_synthetic_dota_oc.py, rotated_retinanet_distribution_kld_r34-slim_...,
#   ../rotated_ld_retinanet/rotated_ld_r18-slim-rretinanet-r34-slim_fpn_synthetic_dota_oc.py
_base_ = [
    '../_base_/models/rotated_retinanet_distribution_r50_fpn.py',
    '../_base_/datasets/synthetic_dota.py',
    '../_base_/schedules/schedule_synthetic_iters.py',
    '../_base_/default_runtime.py',
]
angle_version = 'oc'
train_pipeline = [dict(t, angle_version=angle_version) if t['type'] == 'ConvertBoxType' else t
                  for t in _base_.train_pipeline]
val_pipeline = [dict(t, angle_version=angle_version) if t['type'] == 'ConvertBoxType' else t
                for t in _base_.val_pipeline]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
model = dict(
    backbone=dict(depth=18, frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=128),
    bbox_head=dict(
        in_channels=128,
        feat_channels=128,
        stacked_convs=2,
        angle_version=angle_version,
        bbox_coder=dict(angle_version=angle_version),
        reg_decoded_bbox=True,
        loss_bbox=dict(_delete_=True, type='GDLoss_v1', loss_type='kld', fun='log1p', tau=1.0, loss_weight=1.0)),
    test_cfg=dict(nms_pre=1000, max_per_img=300))
# the demo's iteration schedule (benchmarks/bench_distill_gain.py trains it with the demo's budgets);
# merged full scenes are scored once at the end (test_dataloader), as in tools/demo.py
val_dataloader = None
val_evaluator = None
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(by_epoch=False, interval=100, max_keep_ckpts=1))
log_processor = dict(by_epoch=False, window_size=20)
