# GFLv2 R-50-FPN 1x COCO (Li et al., CVPR 2021): GFL + the distribution-guided quality predictor
# (DGQP: top-4 probabilities + their mean per edge -> 64 -> 1, class score x quality; docs/ld.md
# "GFLv2"). Also the HikariTJU/LD name of the same config.
_base_ = './gfl_r50_fpn_1x_coco.py'
model = dict(
    bbox_head=dict(
        type='GFLv2Head',
        quality_branch=dict(type='DGQP', reg_topk=4, reg_channels=64, add_mean=True)))
