# Rotated-LD with the L1 box loss on expected deltas (no published row: the LD/KD weights are the KLD
# student's 15 / 15): R-34 L1 teacher (2x) -> R-18 L1 student (1x).
_base_ = './rotated_ld_r18-rretinanet-r34_fpn_1x_dota_oc.py'
model = dict(
    teacher_config='{{ fileDirname }}/../rotated_retinanet/rotated_retinanet_distribution_r34_fpn_2x_dota_oc.py',
    teacher_ckpt='data/teachers/rotated_retinanet_distribution_r34_fpn_2x_dota_oc.pth',
    bbox_head=dict(
        reg_decoded_bbox=False,
        loss_bbox=dict(_delete_=True, type='L1Loss', loss_weight=1.0)))
