# Rotated GFL R-18, DOTA, angle version le135.
_base_ = './rotated_gfl_r50_fpn_1x_dota_le135.py'
model = dict(backbone=dict(depth=18), neck=dict(in_channels=[64, 128, 256, 512]))
