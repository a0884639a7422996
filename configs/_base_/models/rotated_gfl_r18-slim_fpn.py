# Slim rotated GFL for CPU training from scratch (docs/cpu_training.md):
# R-18 with trainable BN (no ImageNet weights), FPN 128 ch, 2-conv heads of 128 ch.
_base_ = './rotated_gfl_r50_fpn.py'
model = dict(
    backbone=dict(depth=18, frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=128),
    bbox_head=dict(in_channels=128, feat_channels=128, stacked_convs=2))
