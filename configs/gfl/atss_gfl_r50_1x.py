# HikariTJU/LD config name, kept so that its commands run as written: ATSS with a GFL distribution box branch, R-50 1x.
# This project's config: configs/gfl/atss-gfl_r50_fpn_1x_coco.py (tools print that name; docs/upstream_configs.md).
_base_ = './atss-gfl_r50_fpn_1x_coco.py'
upstream_alias = dict(repo='HikariTJU/LD', name='atss_gfl_r50_1x', ours='configs/gfl/atss-gfl_r50_fpn_1x_coco.py')
