# ATSS with a GFL distribution box branch (HikariTJU/LD configs/gfl/atss_gfl_r50_1x.py), R-50-FPN 1x COCO:
# centerness branch, focal classification, GIoU 2.0 weighted by centerness, no DFL (ATSSGFLHead).
_base_ = './gfl_r50_fpn_1x_coco.py'
model = dict(bbox_head=dict(
    type='ATSSGFLHead', loss_dfl=None,
    loss_cls=dict(_delete_=True, type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0)))
