# Rotated RetinaNet R-50-FPN, DOTA v1.0, angle version le90: the head and coder of mmrotate 1.x
# `rotated-retinanet-rbox-le90_r50_fpn_1x_dota.py` (DeltaXYWHTRBBoxCoder le90, edge_swap, proj_xy, rotated-IoU
# assignment). Trained here it uses this project's exact anchors; as the --config of
# `tools/model_converters/import_weights.py --from mmrotate1-retinanet` the importer writes a config that
# inherits this one and switches anchors and decoding to mmrotate 1.x's (compat='mmrotate1').
_base_ = './rotated_retinanet_r50_fpn_1x_dota_oc.py'
angle_version = 'le90'
train_pipeline = [dict(t, angle_version=angle_version) if t['type'] == 'ConvertBoxType' else t
                  for t in _base_.train_pipeline]
val_pipeline = [dict(t, angle_version=angle_version) if t['type'] == 'ConvertBoxType' else t
                for t in _base_.val_pipeline]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
model = dict(
    bbox_head=dict(
        angle_version=angle_version,
        bbox_coder=dict(angle_version=angle_version, edge_swap=True, proj_xy=True)),
    train_cfg=dict(assigner=dict(iou_mode='rotated')))
