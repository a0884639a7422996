# RetinaNet whose box branch is GFL's edge distributions (HikariTJU/LD RetinaGFLHead), R-50-FPN, P3-P7,
# COCO (80 classes): 9 anchors per location (ratios 0.5 / 1 / 2), max-IoU 0.5 / 0.4, focal loss, reg_max 16,
# GIoU 2.0 on the decoded boxes (no DFL, as upstream). docs/ld.md "RetinaNet students".
# Backbone and preprocessing are GFL's (./gfl_r50_fpn.py: LOCAL ImageNet weights, no downloads); the
# neck's extra levels come from C5 as in RetinaNet.
_base_ = './gfl_r50_fpn.py'
model = dict(
    neck=dict(add_extra_convs='on_input'),
    bbox_head=dict(
        _delete_=True,
        type='RetinaGFLHead',
        num_classes=80,
        in_channels=256,
        stacked_convs=4,
        feat_channels=256,
        reg_max=16,
        anchor_generator=dict(
            type='AnchorGenerator',
            octave_base_scale=4,
            scales_per_octave=3,
            ratios=[0.5, 1.0, 2.0],
            strides=[8, 16, 32, 64, 128]),
        loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
        loss_bbox=dict(type='GIoULoss', loss_weight=2.0),
        reg_decoded_bbox=True),
    train_cfg=dict(
        _delete_=True,
        assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.4, min_pos_iou=0,
                      ignore_iof_thr=-1, iou_mode='circumscribed_hbox'),
        allowed_border=-1,
        pos_weight=-1))
