# LD README Self-LD on VOC (LD repository ld_r18_self_2x_3x_voc.py): a GFL R-18 trained on VOC teaches
# an R-18 student trained for 12 epochs (train set x3, step at 9), main region LD only.
# The LD file's teacher ran twice the student baseline's schedule; ours is ../gfl/gfl_r18_fpn_4e_voc.py
# (set model.teacher_ckpt to a checkpoint trained longer to follow it).
_base_ = './ld_r18-gfl-r101_fpn_4e_voc.py'
model = dict(
    teacher_config='{{ fileDirname }}/../gfl/gfl_r18_fpn_4e_voc.py',
    teacher_ckpt='data/teachers/gfl_r18_fpn_4e_voc.pth')
train_cfg = dict(max_epochs=12)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[9], gamma=0.1),
]
