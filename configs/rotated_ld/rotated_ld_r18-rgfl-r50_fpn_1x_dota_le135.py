# Angle-aware rotated LD, R-18 student / R-50 teacher, angle version le135 (teacher and student share it).
_base_ = './rotated_ld_r18-rgfl-r50_fpn_1x_dota_le90.py'
angle_version = 'le135'
train_pipeline = [dict(t, angle_version=angle_version) if t['type'] == 'ConvertBoxType' else t
                  for t in _base_.train_pipeline]
val_pipeline = [dict(t, angle_version=angle_version) if t['type'] == 'ConvertBoxType' else t
                for t in _base_.val_pipeline]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
teacher_config = '{{ fileDirname }}/../rotated_gfl/rotated_gfl_r50_fpn_1x_dota_le135.py'
model = dict(
    teacher_config=teacher_config,
    teacher_ckpt='work_dirs/rotated_gfl_r50_fpn_1x_dota_le135/epoch_12.pth',
    bbox_head=dict(angle_version=angle_version))
