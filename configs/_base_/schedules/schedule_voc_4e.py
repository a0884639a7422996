# VOC 07+12: the train set is repeated 3x (RepeatDataset in the dataset config), 4 epochs, step at 3.
_base_ = './schedule_1x.py'
train_cfg = dict(max_epochs=4)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=4, by_epoch=True, milestones=[3], gamma=0.1),
]
