# HikariTJU/LD config name, kept so that its README commands run as written: GFL R-18 VOC teacher of Self-LD on VOC.
# This project's config: configs/gfl/gfl_r18_fpn_4e_voc.py (tools print that name when this file is loaded; docs/upstream_configs.md).
_base_ = './gfl_r18_fpn_4e_voc.py'
upstream_alias = dict(repo='HikariTJU/LD', name='gfl_r18_fpn4x_voc', ours='configs/gfl/gfl_r18_fpn_4e_voc.py')
