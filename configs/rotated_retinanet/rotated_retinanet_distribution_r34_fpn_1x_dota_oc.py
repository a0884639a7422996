# Distribution rotated RetinaNet R-34, L1 on expected deltas, 1x.
_base_ = './rotated_retinanet_distribution_r50_fpn_1x_dota_oc.py'
model = dict(
    backbone=dict(depth=34),
    neck=dict(in_channels=[64, 128, 256, 512]))
