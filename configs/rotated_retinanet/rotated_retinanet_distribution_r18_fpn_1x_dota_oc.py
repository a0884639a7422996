# Distribution rotated RetinaNet R-18, L1 on expected deltas (JDet: R-18 plain 67.2 -> distribution 68.5 AP50).
_base_ = './rotated_retinanet_distribution_r50_fpn_1x_dota_oc.py'
model = dict(
    backbone=dict(depth=18),
    neck=dict(in_channels=[64, 128, 256, 512]))
