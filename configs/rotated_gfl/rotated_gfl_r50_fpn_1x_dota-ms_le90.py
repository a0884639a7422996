# Rotated GFL R-50, DOTA multi-scale split (rates 0.5/1.0/1.5, gap 500) + random rotation, le90, 1x.
_base_ = [
    '../_base_/models/rotated_gfl_r50_fpn.py',
    '../_base_/datasets/dota_ms.py',
    '../_base_/schedules/schedule_dota_1x.py',
    '../_base_/default_runtime.py',
]
