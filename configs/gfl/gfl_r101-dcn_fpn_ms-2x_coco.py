# GFL R-101-DCN-FPN ms-2x COCO: the strong LD teacher (LD README: 47.1 AP).
# Deformable 3x3 convs (DCNv1, torchvision.ops.deform_conv2d) in stages C3-C5, as mmdet's
# gfl_r101-dconv-c3-c5_fpn_ms-2x_coco.py; mmdet checkpoints of that config load by key name.
_base_ = './gfl_r101_fpn_ms-2x_coco.py'
model = dict(
    backbone=dict(
        dcn=dict(type='DCN', deform_groups=1, fallback_on_stride=False),
        stage_with_dcn=(False, True, True, True)))
