# HikariTJU/LD config name, kept so that its commands run as written: the ATSS-GFL R-101 ms-2x teacher.
# This project's config: configs/gfl/atss-gfl_r101_fpn_ms-2x_coco.py (tools print that name; docs/upstream_configs.md).
_base_ = './atss-gfl_r101_fpn_ms-2x_coco.py'
upstream_alias = dict(repo='HikariTJU/LD', name='atss_gfl_r101_2x', ours='configs/gfl/atss-gfl_r101_fpn_ms-2x_coco.py')
