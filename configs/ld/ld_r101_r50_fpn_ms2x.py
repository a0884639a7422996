# HikariTJU/LD config name: GFL R-101 -> R-50, ms-2x, COCO (README of 2020). Not implemented in this project; every tool stops on it
# with the message below (docs/upstream_configs.md).
upstream_alias = dict(
    repo='HikariTJU/LD', name='ld_r101_r50_fpn_ms2x',
    refused='no ms-2x R-50 student config here: use configs/ld/ld_r50-gfl-r101_fpn_1x_coco.py (1x) or configs/ld/ld_r101-gfl-r101-dcn_fpn_2x_coco.py (ms-2x)')
