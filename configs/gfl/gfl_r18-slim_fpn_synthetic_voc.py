# Slim GFL R-18 from scratch on the synthetic VOC-layout set: teacher (and student architecture) of the
# synthetic Self-LD VOC config (tests; schedule of ./gfl_r18-slim_fpn_synthetic_coco.py).
#   python tools/data/synthetic/make_hbox_sets.py --out data/synthetic_hbox --layout voc
_base_ = [
    '../_base_/models/gfl_r18-slim_fpn.py',
    '../_base_/datasets/synthetic_voc.py',
    '../_base_/schedules/schedule_synthetic_12e.py',
    '../_base_/default_runtime.py',
]
model = dict(bbox_head=dict(num_classes=8))
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=4, max_keep_ckpts=2))
log_processor = dict(window_size=10)
