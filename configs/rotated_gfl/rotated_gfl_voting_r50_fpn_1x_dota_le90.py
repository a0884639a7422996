# Rotated GFL R-50-FPN DOTA le90 with rotated score voting at test time: greedy class-wise rotated
# NMS (IoU 0.1), then each kept box = score x exp(-(1 - IoU)^2 / 0.025)-weighted mean of the
# same-class candidates with rotated IoU > 0.01, angles aligned to the kept box (docs/geometry.md).
_base_ = './rotated_gfl_r50_fpn_1x_dota_le90.py'
model = dict(
    test_cfg=dict(
        nms=dict(_delete_=True, type='rotated_voting_nms', iou_threshold=0.1, voting_thr=0.01, sigma=0.025,
                 angle_version='le90')))
