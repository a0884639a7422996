# DOTA (mmrotate / Rotated-LD): SGD 0.0025 for a total batch of 2, grad-clip 35,
# warm-up 500 iters from 1/3, steps at 8 and 11, 12 epochs.
_base_ = './schedule_1x.py'
param_scheduler = [
    dict(type='LinearLR', start_factor=1.0 / 3, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1),
]
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.0025, momentum=0.9, weight_decay=0.0001),
    clip_grad=dict(max_norm=35, norm_type=2))
auto_scale_lr = dict(enable=False, base_batch_size=2)
