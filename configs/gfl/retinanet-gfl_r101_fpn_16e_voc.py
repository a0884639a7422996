# RetinaNet-GFL R-101-FPN VOC teacher of the VOC LD RetinaNet student: 16 epochs (train set x3), step at 12,
# as the GFL VOC teacher (./gfl_r101_fpn_16e_voc.py).
_base_ = './retinanet-gfl_r50_fpn_4e_voc.py'
model = dict(backbone=dict(depth=101, init_cfg=dict(checkpoint='data/pretrained/resnet101.pth')))
train_cfg = dict(max_epochs=16)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=16, by_epoch=True, milestones=[12], gamma=0.1),
]
