# Demo model: slim rotated GFL (R-18 from scratch with trainable BN, FPN 128 ch, 2-conv heads) on
# synthetic DOTA patches at 384 px. tools/demo.py trains it twice: as the teacher (--teacher-iters,
# more iterations: on 2 CPU cores iterations, not depth or width, decide, see
# docs/cpu_training.md) and as the plain student (--student-iters).
_base_ = [
    '../_base_/models/rotated_gfl_r50_fpn.py',
    '../_base_/datasets/synthetic_dota.py',
    '../_base_/schedules/schedule_synthetic_iters.py',
    '../_base_/default_runtime.py',
]
model = dict(
    backbone=dict(depth=18, frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=128),
    bbox_head=dict(in_channels=128, feat_channels=128, stacked_convs=2),
    test_cfg=dict(nms_pre=1000, max_per_img=300))
val_dataloader = None
val_evaluator = None
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(by_epoch=False, interval=100, max_keep_ckpts=1))
log_processor = dict(by_epoch=False, window_size=20)
