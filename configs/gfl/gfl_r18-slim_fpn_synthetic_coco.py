# Slim GFL R-18 trained from scratch on the synthetic COCO-format set (CPU demo / tests / LD teacher
# and student of the synthetic LD configs). AdamW 1e-3 as measured in
# docs/cpu_training.md; 8 synthetic classes.
_base_ = [
    '../_base_/models/gfl_r18-slim_fpn.py',
    '../_base_/datasets/synthetic_coco.py',
    '../_base_/schedules/schedule_synthetic_12e.py',
    '../_base_/default_runtime.py',
]
model = dict(bbox_head=dict(num_classes=8))
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=4, max_keep_ckpts=2))
log_processor = dict(window_size=10)
