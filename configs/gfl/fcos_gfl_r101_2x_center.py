# HikariTJU/LD config name, kept so that its commands run as written: the FCOS-GFL R-101 2x teacher.
# This project's config: configs/gfl/fcos-gfl_r101_fpn_ms-2x_coco.py (tools print that name; docs/upstream_configs.md).
_base_ = './fcos-gfl_r101_fpn_ms-2x_coco.py'
upstream_alias = dict(repo='HikariTJU/LD', name='fcos_gfl_r101_2x_center', ours='configs/gfl/fcos-gfl_r101_fpn_ms-2x_coco.py')
