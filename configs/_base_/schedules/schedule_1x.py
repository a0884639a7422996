# 12 epochs, SGD 0.01 for a total batch of 16, linear warm-up 500 iters, steps at 8 and 11.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1),
]

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001))

# The LD README's linear rule: lr = (samples_per_gpu x num_gpus) / 16 x 0.01.
# Enabled by `tools/train.py --auto-scale-lr`.
auto_scale_lr = dict(enable=False, base_batch_size=16)
