# RetinaNet-GFL R-50-FPN on VOC 07+12 (train set x3, 4 epochs, step at 3) -> VOC2007 test: the plain
# baseline of the VOC LD RetinaNet student.
_base_ = [
    '../_base_/models/retinanet-gfl_r50_fpn.py',
    '../_base_/datasets/voc0712.py',
    '../_base_/schedules/schedule_voc_4e.py',
    '../_base_/default_runtime.py',
]
model = dict(bbox_head=dict(num_classes=20))
