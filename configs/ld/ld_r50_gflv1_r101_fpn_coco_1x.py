# HikariTJU/LD config name, kept so that its README commands run as written: GFL R-101 -> R-50, 1x, COCO, Main LD + Main KD (weight 5, T 2) as in that file.
# This project's config: configs/ld/ld_r50-gfl-r101_fpn_1x_coco.py (tools print that name when this file is loaded; docs/upstream_configs.md).
_base_ = './ld_r50-gfl-r101_fpn_1x_coco.py'
model = dict(bbox_head=dict(loss_kd=dict(loss_weight=5, T=2)))
upstream_alias = dict(repo='HikariTJU/LD', name='ld_r50_gflv1_r101_fpn_coco_1x', ours='configs/ld/ld_r50-gfl-r101_fpn_1x_coco.py',
                      differs='+ Main KD weight 5, T 2, as that file')
