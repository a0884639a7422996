# Synthetic DOTA-format scenes (tools/data/synthetic/make_dota_scenes.py), split into 512 px patches with a
# 200 px gap (split_configs/synthetic_{train,val}.json), trained/evaluated at 384 px: the offline demo, tests
# and CPU benchmarks. Make the data with:
#   python tools/data/synthetic/make_dota_scenes.py --out data/synthetic_dota --splits train:40 val:10
#   python tools/data/dota/split/img_split.py --base-json tools/data/dota/split/split_configs/synthetic_train.json
#   python tools/data/dota/split/img_split.py --base-json tools/data/dota/split/split_configs/synthetic_val.json
dataset_type = 'DOTADataset'
data_root = 'data/synthetic_dota_split/'
# (the model config owns the top-level `angle_version`; a child config that changes it overrides
#  these pipelines' ConvertBoxType/flip angle_version too)
img_scale = (384, 384)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, box_type='qbox'),
    dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='rbox'), angle_version='le90'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.75, direction=['horizontal', 'vertical', 'diagonal']),
    dict(type='PackDetInputs'),
]
val_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, box_type='qbox'),
    dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='rbox'), angle_version='le90'),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
# num_workers=0: the CPU demo runs on 2 cores; loading a 512 px patch costs ~15 ms
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='train/annfiles/',
        data_prefix=dict(img_path='train/images/'),
        filter_cfg=dict(filter_empty_gt=True),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='val/annfiles/',
        data_prefix=dict(img_path='val/images/'),
        diff_thr=0,  # faint / border-cut (1) and split-truncated (2) objects are ignored when scoring
        test_mode=True,
        pipeline=val_pipeline))
val_evaluator = dict(type='DOTAMetric', metric='mAP')
# test: the same val patches, merged back to the full scenes and scored against their labelTxt
test_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='',
        data_prefix=dict(img_path='val/images/'),
        test_mode=True,
        pipeline=test_pipeline))
test_evaluator = dict(type='DOTAMetric', merge_patches=True, gt_dir='data/synthetic_dota/val/labelTxt/')
