# ATSS with a GFL distribution box branch (ATSSGFLHead; HikariTJU/LD atss_gfl_head.py) on the data and schedule of gfl_r18_fpn_4e_voc.py.
_base_ = './gfl_r18_fpn_4e_voc.py'
model = dict(bbox_head=dict(
    type='ATSSGFLHead', loss_dfl=None,
    loss_cls=dict(_delete_=True, type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0)))
