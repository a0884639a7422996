# Slim GFLv2 R-18 from scratch on the synthetic COCO-format set: GFLv2 teacher of the synthetic LD
# GFLv2 student (tests; same schedule as ./gfl_r18-slim_fpn_synthetic_coco.py).
_base_ = './gfl_r18-slim_fpn_synthetic_coco.py'
model = dict(
    bbox_head=dict(
        type='GFLv2Head',
        quality_branch=dict(type='DGQP', reg_topk=4, reg_channels=64, add_mean=True)))
