# HikariTJU/LD config name, kept so that its README commands run as written: GFL R-101 VOC teacher of the LD VOC rows.
# This project's config: configs/gfl/gfl_r101_fpn_16e_voc.py (tools print that name when this file is loaded; docs/upstream_configs.md).
_base_ = './gfl_r101_fpn_16e_voc.py'
upstream_alias = dict(repo='HikariTJU/LD', name='gfl_r101_fpn_voc', ours='configs/gfl/gfl_r101_fpn_16e_voc.py')
