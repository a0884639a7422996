# LD README, VOC: GFL R-101 -> R-18, Main LD + VLR LD + VLR KD + GI imitation: 54.4 AP.
_base_ = './ld-vlr-kdvlr_r18-gfl-r101_fpn_4e_voc.py'
model = dict(
    bbox_head=dict(imitation_method='gibox', loss_im=dict(type='IMLoss', loss_weight=2.0)))
