# GFLv2 R-101-DCN-FPN (DCN in C3-C5) ms-2x COCO: the strong GFLv2 teacher of
# ../ld/ld_r101-gflv2-r101-dcn_fpn_2x_coco.py (HikariTJU/LD: gfocal_r101dcn_2x).
_base_ = './gflv2_r101_fpn_2x_coco.py'
model = dict(
    backbone=dict(
        dcn=dict(type='DCN', deform_groups=1, fallback_on_stride=False),
        stage_with_dcn=(False, True, True, True)))
