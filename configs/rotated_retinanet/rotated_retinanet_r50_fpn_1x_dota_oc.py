# Rotated RetinaNet R-50-FPN, DOTA v1.0 single-scale split (1024 patches, gap 200), angle version oc,
# 1x (SGD 0.0025 @ batch 2, grad-clip 35, warm-up 500 iters, steps 8/11), h/v/diagonal flips,
# validation with the DOTA metric on patches (test: merged full images). mmrotate: 64.55 mAP50 (oc, test).
_base_ = [
    '../_base_/models/rotated_retinanet_r50_fpn.py',
    '../_base_/datasets/dota.py',
    '../_base_/schedules/schedule_dota_1x.py',
    '../_base_/default_runtime.py',
]
angle_version = 'oc'
# the dataset base converts polygons to le90 rboxes: convert to this file's angle version instead
train_pipeline = [dict(t, angle_version=angle_version) if t['type'] == 'ConvertBoxType' else t
                  for t in _base_.train_pipeline]
val_pipeline = [dict(t, angle_version=angle_version) if t['type'] == 'ConvertBoxType' else t
                for t in _base_.val_pipeline]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
model = dict(bbox_head=dict(angle_version=angle_version, bbox_coder=dict(angle_version=angle_version)))
