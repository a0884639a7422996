# RetinaNet with a GFL distribution box branch (HikariTJU/LD RetinaGFLHead), R-50-FPN 1x COCO:
# the plain baseline of the LD RetinaNet student (configs/ld/ld_r50-retinanet-gfl-r101_fpn_1x_coco.py).
_base_ = [
    '../_base_/models/retinanet-gfl_r50_fpn.py',
    '../_base_/datasets/coco_detection.py',
    '../_base_/schedules/schedule_1x.py',
    '../_base_/default_runtime.py',
]
