# GFL R-50-FPN 1x COCO (paper/mmdet: 40.2 AP; LD README baseline 40.1).
_base_ = [
    '../_base_/models/gfl_r50_fpn.py',
    '../_base_/datasets/coco_detection.py',
    '../_base_/schedules/schedule_1x.py',
    '../_base_/default_runtime.py',
]
