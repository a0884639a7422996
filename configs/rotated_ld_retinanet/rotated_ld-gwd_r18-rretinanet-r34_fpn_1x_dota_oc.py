# Rotated-LD, GWD student: R-34 GWD teacher (2x) -> R-18 GWD student (1x), LD 10 / KD 20, T 5.
# Rotated-LD README (DOTA-v1.0 val): GWD AP 37.1 -> 40.2, AP50 63.1 -> 66.4.
_base_ = './rotated_ld_r18-rretinanet-r34_fpn_1x_dota_oc.py'
model = dict(
    teacher_config='{{ fileDirname }}/../rotated_retinanet/rotated_retinanet_distribution_gwd_r34_fpn_2x_dota_oc.py',
    teacher_ckpt='data/teachers/rotated_retinanet_distribution_gwd_r34_fpn_2x_dota_oc.pth',
    bbox_head=dict(
        loss_bbox=dict(_delete_=True, type='GDLoss', loss_type='gwd', loss_weight=5.0),
        loss_ld=dict(loss_weight=10),
        loss_kd=dict(loss_weight=20)))
