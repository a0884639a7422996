# HikariTJU/LD config name, kept so that its README commands run as written: Self-LD on VOC, GFL R-18 teacher -> R-18 student, 12 epochs (step 9).
# This project's config: configs/ld/self-ld_r18-gfl-r18_fpn_12e_voc.py (tools print that name when this file is loaded; docs/upstream_configs.md).
_base_ = './self-ld_r18-gfl-r18_fpn_12e_voc.py'
upstream_alias = dict(repo='HikariTJU/LD', name='ld_r18_self_2x_3x_voc', ours='configs/ld/self-ld_r18-gfl-r18_fpn_12e_voc.py')
