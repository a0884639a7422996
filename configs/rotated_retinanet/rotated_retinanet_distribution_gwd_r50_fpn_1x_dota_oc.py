# Distribution rotated RetinaNet R-50, GWD loss on decoded boxes, 1x: teacher of Rotated-LD's GWD R-50 -> R-18 row.
_base_ = './rotated_retinanet_distribution_r50_fpn_1x_dota_oc.py'
model = dict(
    bbox_head=dict(
        reg_decoded_bbox=True,
        loss_bbox=dict(_delete_=True, type='GDLoss', loss_type='gwd', loss_weight=5.0)))
