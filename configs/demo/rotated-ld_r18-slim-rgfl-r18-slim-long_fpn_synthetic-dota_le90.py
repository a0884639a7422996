# Demo LD student: the slim student distilled from the longer-trained teacher of the same
# architecture (edge LD + angle LD + KD on the main region, VLR LD); same data, iterations and
# optimiser as the plain student.
_base_ = './rotated-gfl_r18-slim_fpn_synthetic-dota_le90.py'
teacher_cfg = '{{ fileDirname }}/rotated-gfl_r18-slim_fpn_synthetic-dota_le90.py'
model = dict(
    type='KDSingleStageDetector',
    teacher_config=teacher_cfg,
    teacher_ckpt=None,  # set by tools/demo.py: work_dirs/demo/teacher/iter_<N>.pth
    eval_teacher=True,
    bbox_head=dict(type='RotatedLDHead'))
