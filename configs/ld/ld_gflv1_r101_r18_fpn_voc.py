# HikariTJU/LD config name, kept so that its README commands run as written: GFL R-101 -> R-18, VOC, 4 epochs.
# This project's config: configs/ld/ld_r18-gfl-r101_fpn_4e_voc.py (tools print that name when this file is loaded; docs/upstream_configs.md).
_base_ = './ld_r18-gfl-r101_fpn_4e_voc.py'
upstream_alias = dict(repo='HikariTJU/LD', name='ld_gflv1_r101_r18_fpn_voc', ours='configs/ld/ld_r18-gfl-r101_fpn_4e_voc.py')
