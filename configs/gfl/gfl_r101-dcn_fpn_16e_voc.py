# GFL R-101-DCN-FPN VOC teacher (DCNv1 in C3-C5): 16 epochs (train set x3), step at 12.
_base_ = './gfl_r101_fpn_16e_voc.py'
model = dict(
    backbone=dict(
        dcn=dict(type='DCN', deform_groups=1, fallback_on_stride=False),
        stage_with_dcn=(False, True, True, True)))
