# Rotated RetinaNet, R-50-FPN, DOTA (mmrotate `rotated_retinanet_hbb_r50_fpn_1x_dota_oc.py`, the base of
# Rotated-LD): 9 horizontal anchors per location (octave base scale 4, 3 scales, ratios 1/0.5/2) on P3-P7,
# 4-conv towers, focal loss, L1 on (dx, dy, dw, dh, da); max-IoU assignment (pos >= 0.5, neg < 0.4) on the
# GT's circumscribed horizontal box ('hbb'); test: rotated NMS IoU 0.1, 2000 per image.
# Plain deltas (reg_max=None); the distribution version is rotated_retinanet_distribution_r50_fpn.py.
# Angle version 'oc' (head + coder); the top-level configs set `angle_version` once and write it into the
# head, the coder and the dataset pipeline (a variable here would clash with the dataset base's).
model = dict(
    type='SingleStageDetector',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=True,
        style='pytorch',
        # no downloads: point this at a local ImageNet checkpoint to use one
        init_cfg=None),
    neck=dict(
        type='FPN',
        in_channels=[256, 512, 1024, 2048],
        out_channels=256,
        start_level=1,
        add_extra_convs='on_input',
        num_outs=5),
    bbox_head=dict(
        type='RotatedRetinaHead',
        num_classes=15,
        in_channels=256,
        feat_channels=256,
        stacked_convs=4,
        angle_version='oc',
        reg_max=None,
        anchor_generator=dict(
            type='RotatedAnchorGenerator',
            octave_base_scale=4,
            scales_per_octave=3,
            ratios=[1.0, 0.5, 2.0],
            strides=[8, 16, 32, 64, 128]),
        bbox_coder=dict(
            type='DeltaXYWHAOBBoxCoder',
            angle_version='oc',
            norm_factor=None,
            edge_swap=False,
            proj_xy=False,
            target_means=(0., 0., 0., 0., 0.),
            target_stds=(1., 1., 1., 1., 1.)),
        reg_decoded_bbox=False,
        loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
        loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
    train_cfg=dict(
        assigner=dict(
            type='MaxIoUAssigner',
            pos_iou_thr=0.5,
            neg_iou_thr=0.4,
            min_pos_iou=0,
            iou_mode='circumscribed_hbox'),
        allowed_border=-1,
        pos_weight=-1),
    test_cfg=dict(
        nms_pre=2000,
        min_bbox_size=0,
        score_thr=0.05,
        nms=dict(type='nms_rotated', iou_threshold=0.1),
        max_per_img=2000))
