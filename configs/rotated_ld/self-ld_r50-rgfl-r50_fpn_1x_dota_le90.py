# Self-LD (docs/method.md §5): teacher = the same R-50 rotated GFL trained normally (1x); the student is
# trained from the same initialisation with edge LD + angle LD + KD.
_base_ = './rotated_ld_r50-rgfl-r101_fpn_1x_dota_le90.py'
teacher_config = '{{ fileDirname }}/../rotated_gfl/rotated_gfl_r50_fpn_1x_dota_le90.py'
model = dict(
    teacher_config=teacher_config,
    teacher_ckpt='work_dirs/rotated_gfl_r50_fpn_1x_dota_le90/epoch_12.pth')
