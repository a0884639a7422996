# HikariTJU/LD config name, kept so that its README commands run as written: GFL R-101, ms-2x, COCO (mmdet 2.x name).
# This project's config: configs/gfl/gfl_r101_fpn_ms-2x_coco.py (tools print that name when this file is loaded; docs/upstream_configs.md).
_base_ = './gfl_r101_fpn_ms-2x_coco.py'
upstream_alias = dict(repo='HikariTJU/LD', name='gfl_r101_fpn_mstrain_2x_coco', ours='configs/gfl/gfl_r101_fpn_ms-2x_coco.py')
