# Test-time variant: score-voting Cluster-DIoU-NMS (beta 0.8, voting above DIoU 0.7, sigma 0.025).
# LD README: about +0.1-0.3 AP, +0.2-0.5 AP75, up to -0.4 AP50 on GFL. Train with the parent config,
# then: python tools/test.py <this config> <checkpoint>
_base_ = './ld-vlr-kd_r50-gfl-r101_fpn_1x_coco.py'
model = dict(test_cfg=dict(nms=dict(type='voting_cluster_diounms', iou_threshold=0.6)))
