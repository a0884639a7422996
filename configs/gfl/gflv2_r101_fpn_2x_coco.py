# HikariTJU/LD config name: GFLv2 R-101 2x COCO. Not implemented in this project; every tool stops on it
# with the message below (docs/upstream_configs.md).
upstream_alias = dict(
    repo='HikariTJU/LD', name='gflv2_r101_fpn_2x_coco',
    refused='GFLv2 (DGQP) is not implemented yet; the GFL (v1) teachers are configs/gfl/gfl_r101_fpn_ms-2x_coco.py, configs/gfl/gfl_r101-dcn_fpn_ms-2x_coco.py, configs/gfl/gfl_r101_fpn_16e_voc.py')
