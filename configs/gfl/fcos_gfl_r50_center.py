# HikariTJU/LD config name, kept so that its commands run as written: FCOS with a GFL distribution box branch, R-50, centre sampling.
# This project's config: configs/gfl/fcos-gfl_r50_fpn_1x_coco.py (tools print that name; docs/upstream_configs.md).
_base_ = './fcos-gfl_r50_fpn_1x_coco.py'
upstream_alias = dict(repo='HikariTJU/LD', name='fcos_gfl_r50_center', ours='configs/gfl/fcos-gfl_r50_fpn_1x_coco.py')
