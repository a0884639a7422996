# DOTA v1.0, multi-scale split (split_configs/ms_*.json: windows 1024/rate for rates 0.5, 1.0, 1.5, gap 500)
# plus random rotation (storage-tank 9 and roundabout 11 only by multiples of 90 degrees), as mmrotate.
_base_ = './dota.py'
data_root = 'data/split_ms_dota/'
# (the model config owns the top-level `angle_version`; a child config that changes it overrides
#  these pipelines' ConvertBoxType/flip angle_version too)
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
