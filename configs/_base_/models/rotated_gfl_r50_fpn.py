# Rotated GFL (this project's angle-aware rotated head, docs/rotated_ld.md), R-50-FPN, DOTA.
# One square prior per location on P3-P7; 4 edge distributions (reg_max 16) in the box frame and
# the angle as a distribution over 36 bins of one period (circular DFL + circular decoding).
# The angle version is set once here (`angle_version`) and read by the head; children that
# change it write `angle_version = 'oc'` and `model = dict(bbox_head=dict(angle_version=...))`.
angle_version = 'le90'
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
        add_extra_convs='on_output',
        num_outs=5),
    bbox_head=dict(
        type='RotatedGFLHead',
        num_classes=15,
        in_channels=256,
        feat_channels=256,
        stacked_convs=4,
        reg_max=16,
        strides=(8, 16, 32, 64, 128),
        octave_base_scale=8,
        angle_version=angle_version,
        angle_coder=dict(type='CircularAngleCoder', angle_bins=36),
        bbox_coder=dict(type='DistanceAnglePointCoder'),
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True),
        loss_cls=dict(type='QualityFocalLoss', use_sigmoid=True, beta=2.0, loss_weight=1.0),
        loss_bbox=dict(type='RotatedIoULoss', loss_weight=2.0),
        loss_dfl=dict(type='DistributionFocalLoss', loss_weight=0.25),
        loss_angle=dict(type='CircularDFLoss', loss_weight=0.25)),
    train_cfg=dict(
        assigner=dict(type='RotatedATSSAssigner', topk=9),
        allowed_border=-1,
        pos_weight=-1,
        debug=False),
    test_cfg=dict(
        nms_pre=2000,
        min_bbox_size=0,
        score_thr=0.05,
        nms=dict(type='nms_rotated', iou_threshold=0.1),
        max_per_img=2000))
