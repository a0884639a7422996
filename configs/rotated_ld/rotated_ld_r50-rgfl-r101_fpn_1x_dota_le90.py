# Angle-aware rotated LD: R-50 student, R-101 rotated GFL teacher (2x), DOTA, le90, 1x.
_base_ = './rotated_ld_r18-rgfl-r50_fpn_1x_dota_le90.py'
teacher_config = '{{ fileDirname }}/../rotated_gfl/rotated_gfl_r101_fpn_2x_dota_le90.py'
model = dict(
    backbone=dict(depth=50),
    neck=dict(in_channels=[256, 512, 1024, 2048]),
    teacher_config=teacher_config,
    teacher_ckpt='work_dirs/rotated_gfl_r101_fpn_2x_dota_le90/epoch_24.pth')
