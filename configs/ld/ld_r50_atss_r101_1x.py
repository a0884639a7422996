# HikariTJU/LD config name: ATSS R-50 student from an ATSS-GFL R-101 teacher. Not implemented in this project; every tool stops on it
# with the message below (docs/upstream_configs.md).
upstream_alias = dict(
    repo='HikariTJU/LD', name='ld_r50_atss_r101_1x',
    refused='ATSS students (LDATSSHead) are not implemented yet. LD exists here for GFL (v1) students, e.g. configs/ld/ld_r50-gfl-r101_fpn_1x_coco.py, configs/ld/ld_r101-gfl-r101-dcn_fpn_2x_coco.py, configs/ld/ld_r18-gfl-r101_fpn_4e_voc.py')
