# Synthetic scenes: the R-34 teacher of the synthetic Rotated-LD run (same slim neck/head as the student).
_base_ = './rotated_retinanet_distribution_kld_r18-slim_fpn_synthetic_dota_oc.py'
model = dict(backbone=dict(depth=34))
