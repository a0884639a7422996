# Angle-aware rotated LD, R-18 student / R-50 teacher, DOTA v2.0 (18 classes), le90, 1x.
_base_ = './rotated_ld_r18-rgfl-r50_fpn_1x_dota_le90.py'
data_root = 'data/split_ss_dota2_0/'
train_dataloader = dict(dataset=dict(data_root=data_root, version='v2.0'))
val_dataloader = dict(dataset=dict(data_root=data_root, version='v2.0'))
test_dataloader = dict(dataset=dict(data_root=data_root, version='v2.0'))
teacher_config = '{{ fileDirname }}/../rotated_gfl/rotated_gfl_r50_fpn_1x_dota-v2.0_le90.py'
model = dict(
    teacher_config=teacher_config,
    teacher_ckpt='work_dirs/rotated_gfl_r50_fpn_1x_dota-v2.0_le90/epoch_12.pth',
    bbox_head=dict(num_classes=18))
