# HikariTJU/LD config name, kept so that its README commands run as written: GFLv2 R-101-DCN ms-2x COCO teacher.
# This project's config: configs/gfl/gflv2_r101-dcn_fpn_ms-2x_coco.py (tools print that name when this file is loaded; docs/upstream_configs.md).
_base_ = '../gfl/gflv2_r101-dcn_fpn_ms-2x_coco.py'
upstream_alias = dict(repo='HikariTJU/LD', name='gfocal_r101dcn_2x', ours='configs/gfl/gflv2_r101-dcn_fpn_ms-2x_coco.py')
