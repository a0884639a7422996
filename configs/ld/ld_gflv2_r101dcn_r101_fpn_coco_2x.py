# HikariTJU/LD config name, kept so that its README commands run as written: GFLv2 R-101-DCN -> R-101, ms-2x, COCO.
# This project's config: configs/ld/ld_r101-gflv2-r101-dcn_fpn_2x_coco.py (tools print that name when this file is loaded; docs/upstream_configs.md).
_base_ = './ld_r101-gflv2-r101-dcn_fpn_2x_coco.py'
upstream_alias = dict(repo='HikariTJU/LD', name='ld_gflv2_r101dcn_r101_fpn_coco_2x', ours='configs/ld/ld_r101-gflv2-r101-dcn_fpn_2x_coco.py')
