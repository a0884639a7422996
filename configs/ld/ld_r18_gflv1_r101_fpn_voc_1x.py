# HikariTJU/LD config name, kept so that its README commands run as written: GFL R-101 -> R-18, VOC, 4 epochs, CIoU box loss as in that file.
# This project's config: configs/ld/ld_r18-gfl-r101_fpn_4e_voc.py (tools print that name when this file is loaded; docs/upstream_configs.md).
_base_ = './ld_r18-gfl-r101_fpn_4e_voc.py'
model = dict(bbox_head=dict(loss_bbox=dict(type='CIoULoss', loss_weight=2.0)))
upstream_alias = dict(repo='HikariTJU/LD', name='ld_r18_gflv1_r101_fpn_voc_1x', ours='configs/ld/ld_r18-gfl-r101_fpn_4e_voc.py',
                      differs='+ CIoU box loss, as that file')
