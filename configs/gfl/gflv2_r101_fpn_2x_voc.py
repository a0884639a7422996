# GFLv2 R-101-FPN on VOC 07+12 -> VOC2007 test, "2x": twice this project's VOC 1x (= 4 epochs of the
# train set x3, configs/gfl/gfl_r101_fpn_4e_voc.py): 8 epochs, step at 6. (The HikariTJU/LD file of
# this name sets 24 epochs with step 16/22 on its own VOC data settings.)
_base_ = './gfl_r101_fpn_4e_voc.py'
model = dict(
    bbox_head=dict(
        type='GFLv2Head',
        quality_branch=dict(type='DGQP', reg_topk=4, reg_channels=64, add_mean=True)))
train_cfg = dict(max_epochs=8)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=8, by_epoch=True, milestones=[6], gamma=0.1),
]
