# Distribution rotated RetinaNet R-34, KLD loss on decoded boxes (mmrotate GDLoss_v1 'kld', log1p, tau 1,
# weight 1 as Rotated-LD's KLD configs).
_base_ = './rotated_retinanet_distribution_r34_fpn_1x_dota_oc.py'
model = dict(
    bbox_head=dict(
        reg_decoded_bbox=True,
        loss_bbox=dict(_delete_=True, type='GDLoss_v1', loss_type='kld', fun='log1p', tau=1.0, loss_weight=1.0)))
