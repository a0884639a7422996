# ATSS-GFL R-101-FPN, multi-scale 2x COCO: the ATSS teacher of configs/ld/ld_r50-atss-gfl-r101_fpn_1x_coco.py
# (HikariTJU/LD configs/gfl/atss_gfl_r101_2x.py; its README lists the checkpoint at 44.x AP).
_base_ = './gfl_r101_fpn_ms-2x_coco.py'
model = dict(bbox_head=dict(
    type='ATSSGFLHead', loss_dfl=None,
    loss_cls=dict(_delete_=True, type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0)))
