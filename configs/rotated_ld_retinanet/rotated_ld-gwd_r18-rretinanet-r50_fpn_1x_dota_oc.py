# Rotated-LD, GWD student from an R-50 GWD teacher (1x) -> R-18 GWD student (1x), LD 30 / KD 30, T 5, as
# Rotated-LD's rotated_retinanet_distribution_hbb_gwd_r18_r50_fpn_1x_dota_oc.py (its finegrained feature
# imitation, IMLoss 2.0, is not carried over: this project's rotated RetinaNet LD head has no imitation term).
_base_ = './rotated_ld-gwd_r18-rretinanet-r34_fpn_1x_dota_oc.py'
model = dict(
    teacher_config='{{ fileDirname }}/../rotated_retinanet/rotated_retinanet_distribution_gwd_r50_fpn_1x_dota_oc.py',
    teacher_ckpt='data/teachers/rotated_retinanet_distribution_gwd_r50_fpn_1x_dota_oc.pth',
    bbox_head=dict(loss_ld=dict(loss_weight=30), loss_kd=dict(loss_weight=30)))
