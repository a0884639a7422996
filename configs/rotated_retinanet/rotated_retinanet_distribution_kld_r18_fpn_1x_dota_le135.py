# Distribution rotated RetinaNet R-18, KLD loss on decoded boxes, angle version le135 (w >= h): the le135 'obb'
# setting of ./rotated_retinanet_distribution_r18_fpn_1x_dota_le135.py with the loss of
# ./rotated_retinanet_distribution_kld_r18_fpn_1x_dota_oc.py (mmrotate GDLoss_v1 'kld', log1p, tau 1, weight 1).
_base_ = './rotated_retinanet_distribution_r18_fpn_1x_dota_le135.py'
model = dict(
    bbox_head=dict(
        reg_decoded_bbox=True,
        loss_bbox=dict(_delete_=True, type='GDLoss_v1', loss_type='kld', fun='log1p', tau=1.0, loss_weight=1.0)))
