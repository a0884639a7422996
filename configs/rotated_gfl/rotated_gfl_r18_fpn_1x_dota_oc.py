# Rotated GFL R-18, DOTA, angle version oc.
_base_ = './rotated_gfl_r50_fpn_1x_dota_oc.py'
model = dict(backbone=dict(depth=18), neck=dict(in_channels=[64, 128, 256, 512]))
