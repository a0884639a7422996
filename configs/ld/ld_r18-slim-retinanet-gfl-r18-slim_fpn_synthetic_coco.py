# Synthetic COCO-format set (tools/data/synthetic/make_hbox_sets.py): LD RetinaNet student of the tests.
# Teacher = ../gfl/retinanet-gfl_r18-slim_fpn_synthetic_coco.py trained first; student = the same slim
# architecture from scratch with LDRetinaHead's terms (Main LD, VLR LD, Main KD).
#   python tools/train.py configs/gfl/retinanet-gfl_r18-slim_fpn_synthetic_coco.py
#   python tools/train.py configs/ld/ld_r18-slim-retinanet-gfl-r18-slim_fpn_synthetic_coco.py \
#       --cfg-options model.teacher_ckpt=work_dirs/retinanet-gfl_r18-slim_fpn_synthetic_coco/epoch_12.pth
_base_ = '../gfl/retinanet-gfl_r18-slim_fpn_synthetic_coco.py'
model = dict(
    type='KDSingleStageDetector',
    teacher_config='{{ fileDirname }}/../gfl/retinanet-gfl_r18-slim_fpn_synthetic_coco.py',
    teacher_ckpt='work_dirs/retinanet-gfl_r18-slim_fpn_synthetic_coco/epoch_12.pth',
    bbox_head=dict(type='LDRetinaHead'))
