# Baseline R-18 with the plain scalar angle (see rotated_gfl-plainangle_r50_fpn_1x_dota_le90.py).
_base_ = './rotated_gfl-plainangle_r50_fpn_1x_dota_le90.py'
model = dict(backbone=dict(depth=18), neck=dict(in_channels=[64, 128, 256, 512]))
