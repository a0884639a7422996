# Demo model: slim rotated GFL (R-18 from scratch with trainable BN, FPN 128 ch, 2-conv heads) on
# synthetic DOTA patches at 384 px. tools/demo.py trains it twice: as the teacher (--teacher-iters,
# more iterations: on 2 CPU cores iterations, not depth or width, decide, see
# shared notes "cpu-training-from-scratch") and as the plain student (--student-iters).
_base_ = [
    '../_base_/models/rotated_gfl_r50_fpn.py',
    '../_base_/datasets/synthetic_dota.py',
    '../_base_/default_runtime.py',
]
model = dict(
    backbone=dict(depth=18, frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=128),
    bbox_head=dict(in_channels=128, feat_channels=128, stacked_convs=2),
    test_cfg=dict(nms_pre=1000, max_per_img=300))

# no validation while training: the demo scores merged full scenes once, at the end (test_dataloader)
train_cfg = dict(type='IterBasedTrainLoop', max_iters=200)
val_cfg = None
val_dataloader = None
val_evaluator = None
test_cfg = dict(type='TestLoop')
# AdamW 1e-3 trains from scratch fastest on CPU (shared notes); warm-up, then cosine to 5 %.
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=50, eta_min_ratio=0.05),
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
    clip_grad=dict(max_norm=10, norm_type=2))
auto_scale_lr = dict(enable=False, base_batch_size=4)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(by_epoch=False, interval=100, max_keep_ckpts=1))
log_processor = dict(by_epoch=False, window_size=20)
randomness = dict(seed=0)
