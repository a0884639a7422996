# Rotated GFL R-101, DOTA, le90, 1x.
_base_ = './rotated_gfl_r50_fpn_1x_dota_le90.py'
model = dict(backbone=dict(depth=101))
