# Epoch schedule of the slim synthetic-set configs trained in the tests (GFL, GFLv2, RetinaNet-GFL and
# their LD students): 12 epochs, AdamW 1e-3 as measured in docs/cpu_training.md, validation every 4 epochs
# (children set default_hooks: logger every 10 iterations, a checkpoint every 4 epochs).
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
