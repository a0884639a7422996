# Rotated GFL R-50, DOTA v2.0 (18 classes: + container-crane, airport, helipad), le90, 1x.
_base_ = './rotated_gfl_r50_fpn_1x_dota_le90.py'
data_root = 'data/split_ss_dota2_0/'
model = dict(bbox_head=dict(num_classes=18))
train_dataloader = dict(dataset=dict(data_root=data_root, version='v2.0'))
val_dataloader = dict(dataset=dict(data_root=data_root, version='v2.0'))
test_dataloader = dict(dataset=dict(data_root=data_root, version='v2.0'))
