# Plain rotated RetinaNet R-18 (4-number deltas + angle, L1): the "R-RetinaNet" baseline row of Rotated-LD.
_base_ = './rotated_retinanet_r50_fpn_1x_dota_oc.py'
model = dict(
    backbone=dict(depth=18),
    neck=dict(in_channels=[64, 128, 256, 512]))
