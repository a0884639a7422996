# GFL (Li et al. 2020), R-50-FPN, P3-P7, COCO (80 classes); mmdet 3 gfl_r50_fpn_1x_coco model.
# Key names match mmdet, so mmdet GFL checkpoints load as teachers (configs/ld).
# The backbone expects LOCAL ImageNet weights (no downloads), e.g. saved once with
#   python -c "import torch, torchvision; torch.save(torchvision.models.resnet50(weights='IMAGENET1K_V1').state_dict(), 'data/pretrained/resnet50.pth')"
# frozen_stages=1 / norm_eval=True assume those weights; from-scratch configs (gfl_r18-slim_fpn.py)
# train every BN layer instead.
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
        init_cfg=dict(type='Pretrained', checkpoint='data/pretrained/resnet50.pth')),
    neck=dict(
        type='FPN',
        in_channels=[256, 512, 1024, 2048],
        out_channels=256,
        start_level=1,
        add_extra_convs='on_output',
        num_outs=5),
    bbox_head=dict(
        type='GFLHead',
        num_classes=80,
        in_channels=256,
        feat_channels=256,
        stacked_convs=4,
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True),
        reg_max=16,
        strides=(8, 16, 32, 64, 128),
        octave_base_scale=8,
        loss_cls=dict(type='QualityFocalLoss', use_sigmoid=True, beta=2.0, loss_weight=1.0),
        loss_dfl=dict(type='DistributionFocalLoss', loss_weight=0.25),
        loss_bbox=dict(type='GIoULoss', loss_weight=2.0)),
    train_cfg=dict(
        assigner=dict(type='ATSSAssigner', topk=9),
        allowed_border=-1,
        pos_weight=-1,
        debug=False),
    test_cfg=dict(
        nms_pre=1000,
        min_bbox_size=0,
        score_thr=0.05,
        nms=dict(type='nms', iou_threshold=0.6),
        max_per_img=100))
