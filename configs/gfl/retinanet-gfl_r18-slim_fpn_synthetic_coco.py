# Slim RetinaNet-GFL R-18 from scratch on the synthetic COCO-format set: the teacher of the synthetic LD
# RetinaNet student (tests; schedule of ./gfl_r18-slim_fpn_synthetic_coco.py, docs/cpu_training.md).
_base_ = [
    '../_base_/models/retinanet-gfl_r50_fpn.py',
    '../_base_/datasets/synthetic_coco.py',
    '../_base_/schedules/schedule_synthetic_12e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    backbone=dict(depth=18, frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=128),
    bbox_head=dict(num_classes=8, in_channels=128, feat_channels=128, stacked_convs=2))
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=4, max_keep_ckpts=2))
log_processor = dict(window_size=10)
