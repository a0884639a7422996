# HikariTJU/LD config name, kept so that its commands run as written: FCOS-GFL R-101 -> FCOS-GFL R-50, 1x COCO.
# This project's config: configs/ld/ld_r50-fcos-gfl-r101_fpn_1x_coco.py (tools print that name; docs/upstream_configs.md).
_base_ = './ld_r50-fcos-gfl-r101_fpn_1x_coco.py'
upstream_alias = dict(repo='HikariTJU/LD', name='ld_r50_fcos_r101_1x', ours='configs/ld/ld_r50-fcos-gfl-r101_fpn_1x_coco.py')
