# Rotated GFL R-34, DOTA, le90, 1x.
_base_ = './rotated_gfl_r50_fpn_1x_dota_le90.py'
model = dict(backbone=dict(depth=34), neck=dict(in_channels=[64, 128, 256, 512]))
