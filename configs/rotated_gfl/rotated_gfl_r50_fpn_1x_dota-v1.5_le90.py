# Rotated GFL R-50, DOTA v1.5 (16 classes: + container-crane), le90, 1x.
_base_ = './rotated_gfl_r50_fpn_1x_dota_le90.py'
data_root = 'data/split_ss_dota1_5/'
model = dict(bbox_head=dict(num_classes=16))
train_dataloader = dict(dataset=dict(data_root=data_root, version='v1.5'))
val_dataloader = dict(dataset=dict(data_root=data_root, version='v1.5'))
test_dataloader = dict(dataset=dict(data_root=data_root, version='v1.5'))
