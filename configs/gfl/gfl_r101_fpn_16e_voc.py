# GFL R-101-FPN VOC teacher of the LD VOC rows: 16 epochs (train set x3), step at 12.
_base_ = './gfl_r101_fpn_4e_voc.py'
train_cfg = dict(max_epochs=16)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=16, by_epoch=True, milestones=[12], gamma=0.1),
]
