# LD README: GFL R-101 -> R-50, 1x, Main KD + Main LD + VLR LD + GI-box feature imitation: 42.4 AP.
_base_ = './ld-vlr-kd_r50-gfl-r101_fpn_1x_coco.py'
model = dict(
    bbox_head=dict(imitation_method='gibox', loss_im=dict(type='IMLoss', loss_weight=2.0)))
