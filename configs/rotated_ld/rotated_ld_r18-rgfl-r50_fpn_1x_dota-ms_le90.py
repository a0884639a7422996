# Angle-aware rotated LD, R-18 student / R-50 teacher, DOTA multi-scale split (+ random rotation), le90.
_base_ = './rotated_ld_r18-rgfl-r50_fpn_1x_dota_le90.py'
data_root = 'data/split_ms_dota/'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, box_type='qbox'),
    dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='rbox'), angle_version='le90'),
    dict(type='Resize', scale=(1024, 1024), keep_ratio=True),
    dict(type='RandomFlip', prob=0.75, direction=['horizontal', 'vertical', 'diagonal']),
    dict(type='RandomRotate', prob=0.5, angle_range=180, rect_obj_labels=[9, 11]),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
teacher_config = '{{ fileDirname }}/../rotated_gfl/rotated_gfl_r50_fpn_1x_dota-ms_le90.py'
model = dict(
    teacher_config=teacher_config,
    teacher_ckpt='work_dirs/rotated_gfl_r50_fpn_1x_dota-ms_le90/epoch_12.pth')
