# FCOS with a GFL distribution box branch and centre sampling (FCOSGFLHead), R-101 VOC 16e (teacher).
# Points at (i + 0.5)·stride, FCOSAssigner (radius 1.5, FCOS ranges), focal + centerness, GIoU 1.0, no DFL.
_base_ = './gfl_r101_fpn_16e_voc.py'
model = dict(
    bbox_head=dict(type='FCOSGFLHead', loss_dfl=None, loss_bbox=dict(loss_weight=1.0), loss_cls=dict(
        _delete_=True, type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0)),
    train_cfg=dict(assigner=dict(_delete_=True, type='FCOSAssigner', center_sampling=True, center_sample_radius=1.5)))
