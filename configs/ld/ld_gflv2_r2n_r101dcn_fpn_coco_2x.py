# HikariTJU/LD config name: GFLv2 Res2Net-101-DCN -> R-101-DCN, 2x, COCO. Not implemented in this project; every tool stops on it
# with the message below (docs/upstream_configs.md).
upstream_alias = dict(
    repo='HikariTJU/LD', name='ld_gflv2_r2n_r101dcn_fpn_coco_2x',
    refused='GFLv2 (DGQP, LDGFLv2Head) is not implemented yet. LD exists here for GFL (v1) students, e.g. configs/ld/ld_r50-gfl-r101_fpn_1x_coco.py, configs/ld/ld_r101-gfl-r101-dcn_fpn_2x_coco.py, configs/ld/ld_r18-gfl-r101_fpn_4e_voc.py')
