# Distribution rotated RetinaNet R-50, GWD loss, 2x (Rotated-LD's configs/gwd R-50 teacher).
_base_ = './rotated_retinanet_distribution_gwd_r50_fpn_1x_dota_oc.py'
# 2x as ../_base_/schedules/schedule_dota_2x.py (24 epochs, steps 16/22)
train_cfg = dict(max_epochs=24)
param_scheduler = [
    dict(type='LinearLR', start_factor=1.0 / 3, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=24, by_epoch=True, milestones=[16, 22], gamma=0.1),
]
