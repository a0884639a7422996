# GFLv2 R-101-FPN, multi-scale (short side 480-800) 2x COCO: the GFLv2 teacher of
# ../ld/ld_r50-gflv2-r101_fpn_1x_coco.py (HikariTJU/LD: gflv2_r101_fpn_2x_coco, gfocal_r101_fpn_ms2x).
_base_ = './gfl_r101_fpn_ms-2x_coco.py'
model = dict(
    bbox_head=dict(
        type='GFLv2Head',
        quality_branch=dict(type='DGQP', reg_topk=4, reg_channels=64, add_mean=True)))
