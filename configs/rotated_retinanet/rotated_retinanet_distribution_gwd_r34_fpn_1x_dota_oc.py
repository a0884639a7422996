# Distribution rotated RetinaNet R-34, GWD loss on decoded boxes (mmrotate GDLoss: log1p of the normalised
# Wasserstein distance, tau 0, weight 5 as Rotated-LD's GWD configs). Rotated-LD R-18 GWD: 37.1 AP (val).
_base_ = './rotated_retinanet_distribution_r34_fpn_1x_dota_oc.py'
model = dict(
    bbox_head=dict(
        reg_decoded_bbox=True,
        loss_bbox=dict(_delete_=True, type='GDLoss', loss_type='gwd', loss_weight=5.0)))
