# LD on an FCOS student on the synthetic COCO-format set (CPU tests): teacher = the slim FCOS-GFL trained
# first, student = the same slim architecture from scratch with LDFCOSHead (Main LD, KD, loss_ld_neg).
#   python tools/train.py configs/gfl/fcos-gfl_r18-slim_fpn_synthetic_coco.py
#   python tools/train.py configs/ld/ld_r18-slim-fcos-gfl-r18-slim_fpn_synthetic_coco.py \
#       --cfg-options model.teacher_ckpt=work_dirs/fcos-gfl_r18-slim_fpn_synthetic_coco/epoch_12.pth
_base_ = '../gfl/fcos-gfl_r18-slim_fpn_synthetic_coco.py'
model = dict(
    type='KDSingleStageDetector',
    teacher_config='{{ fileDirname }}/../gfl/fcos-gfl_r18-slim_fpn_synthetic_coco.py',
    teacher_ckpt='work_dirs/fcos-gfl_r18-slim_fpn_synthetic_coco/epoch_12.pth',
    bbox_head=dict(type='LDFCOSHead'))
