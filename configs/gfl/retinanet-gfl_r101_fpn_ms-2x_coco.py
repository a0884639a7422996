# RetinaNet-GFL R-101-FPN, multi-scale (short side 480-800) 2x COCO: the teacher of the LD RetinaNet
# student (HikariTJU/LD configs/gfl/retinagfl_r101_2x_coco.py; its checkpoint retina_r101_2x-9233f43c.pth
# has the box convs as atss_cls / atss_reg, here retina_cls / retina_reg). Upstream lr 0.0025; ours is
# the project's 0.01 for 16 images (docs/upstream_configs.md).
_base_ = './retinanet-gfl_r50_fpn_1x_coco.py'
model = dict(backbone=dict(depth=101, init_cfg=dict(checkpoint='data/pretrained/resnet101.pth')))
# 2x schedule (as ../_base_/schedules/schedule_2x.py; bases may not repeat keys, so restated here)
train_cfg = dict(max_epochs=24)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=24, by_epoch=True, milestones=[16, 22], gamma=0.1),
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomResize', scale=[(1333, 480), (1333, 800)], keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
