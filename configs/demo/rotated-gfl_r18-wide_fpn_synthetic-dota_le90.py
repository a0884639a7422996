# Demo teacher: the student's R-18 with a wider FPN/head (192 ch, 3 convs), trained for more
# iterations (--teacher-iters). On 2 CPU cores a deeper backbone learns more slowly per minute
# (shared/notes/cpu-training-from-scratch.md), so the teacher's edge comes from width and iterations.
_base_ = './rotated-gfl_r18-slim_fpn_synthetic-dota_le90.py'
model = dict(
    neck=dict(out_channels=192),
    bbox_head=dict(in_channels=192, feat_channels=192, stacked_convs=3))
train_cfg = dict(max_iters=900)
