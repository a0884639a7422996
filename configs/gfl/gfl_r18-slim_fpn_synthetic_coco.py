# Slim GFL R-18 trained from scratch on the synthetic COCO-format set (CPU demo / tests / LD teacher
# and student of the synthetic LD configs). AdamW 1e-3 as measured in
# docs/cpu_training.md; 8 synthetic classes.
_base_ = [
    '../_base_/models/gfl_r18-slim_fpn.py',
    '../_base_/datasets/synthetic_coco.py',
    '../_base_/default_runtime.py',
]
model = dict(bbox_head=dict(num_classes=8))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=4)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=30),
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
    clip_grad=dict(max_norm=10, norm_type=2))
auto_scale_lr = dict(enable=False, base_batch_size=4)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=4, max_keep_ckpts=2))
log_processor = dict(window_size=10)
