# LD README "logit mimicking vs feature imitation" (GFL R-101 -> R-50, 1x): GI imitation: 41.5 AP
# (main-region LD: 41.1). Feature imitation only: IMLoss 2.0 on FPN features, no adaptation layer.
_base_ = './ld_r50-gfl-r101_fpn_1x_coco.py'
model = dict(
    bbox_head=dict(
        loss_ld=dict(loss_weight=0),
        imitation_method='gibox',
        loss_im=dict(type='IMLoss', loss_weight=2.0)))
