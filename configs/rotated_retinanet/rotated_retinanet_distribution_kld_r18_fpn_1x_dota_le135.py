# Distribution rotated RetinaNet R-18, KLD loss on decoded boxes, angle version le135 (w >= h): mmrotate's 'obb' setting —
# rotated-IoU assignment, the GT may be described as (h, w, t + pi/2) when that needs the smaller turn
# (edge_swap), centre offsets in the anchor frame (proj_xy), da in units of pi (norm_factor 1).
_base_ = './rotated_retinanet_distribution_kld_r18_fpn_1x_dota_oc.py'
angle_version = 'le135'
train_pipeline = [dict(t, angle_version=angle_version) if t['type'] == 'ConvertBoxType' else t
                  for t in _base_.train_pipeline]
val_pipeline = [dict(t, angle_version=angle_version) if t['type'] == 'ConvertBoxType' else t
                for t in _base_.val_pipeline]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
model = dict(
    bbox_head=dict(
        angle_version=angle_version,
        bbox_coder=dict(angle_version=angle_version, norm_factor=1, edge_swap=True, proj_xy=True)),
    train_cfg=dict(assigner=dict(iou_mode='rotated')))
