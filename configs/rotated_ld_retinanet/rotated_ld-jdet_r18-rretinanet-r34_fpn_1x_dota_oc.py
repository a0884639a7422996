# JDet's ld_rotated_retinanet distillation as an alternative: LD on the positives only (T 10, weight 10) and
# KD on every prior with label weight > 0 (T 2, weight 10), both as element-wise means (normalize='mean');
# L1 on expected deltas. JDet README (DOTA-1.0 train -> val, AP50, R-50 distribution teacher): R-18 plain
# 67.2, distribution 68.5, LD + KD 69.8. Kept in this project's oc box setting with the R-34 L1 teacher
# (JDet itself uses long-side boxes in [-pi/4, 3pi/4), rotated-IoU assignment and da in units of pi).
_base_ = './rotated_ld-l1_r18-rretinanet-r34_fpn_1x_dota_oc.py'
model = dict(
    bbox_head=dict(
        loss_ld=dict(loss_weight=10, T=10),
        loss_kd=dict(loss_weight=10, T=2),
        region='positives',
        normalize='mean'))
