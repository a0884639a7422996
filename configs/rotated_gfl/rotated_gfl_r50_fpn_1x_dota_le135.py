# Rotated GFL R-50, DOTA, angle version le135 (bins cover [-pi/4, 3pi/4)).
_base_ = './rotated_gfl_r50_fpn_1x_dota_le90.py'
angle_version = 'le135'
train_pipeline = [dict(t, angle_version=angle_version) if t['type'] == 'ConvertBoxType' else t
                  for t in _base_.train_pipeline]
val_pipeline = [dict(t, angle_version=angle_version) if t['type'] == 'ConvertBoxType' else t
                for t in _base_.val_pipeline]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
model = dict(bbox_head=dict(angle_version=angle_version))
