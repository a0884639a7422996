# HikariTJU/LD config name, kept so that its README commands run as written: GFLv2 R-101 -> R-50, 1x, COCO.
# This project's config: configs/ld/ld_r50-gflv2-r101_fpn_1x_coco.py (tools print that name when this file is loaded; docs/upstream_configs.md).
_base_ = './ld_r50-gflv2-r101_fpn_1x_coco.py'
upstream_alias = dict(repo='HikariTJU/LD', name='ld_gflv2_r101_r50_fpn_coco_1x', ours='configs/ld/ld_r50-gflv2-r101_fpn_1x_coco.py')
