# Rotated GFL (angle-aware: edges in the box frame + circular angle bins) R-50-FPN, DOTA v1.0 single-scale
# split (1024/200), le90, 1x (SGD 0.0025 @ batch 2, grad-clip 35, steps 8/11). docs/rotated_ld.md.
_base_ = [
    '../_base_/models/rotated_gfl_r50_fpn.py',
    '../_base_/datasets/dota.py',
    '../_base_/schedules/schedule_dota_1x.py',
    '../_base_/default_runtime.py',
]
