# HikariTJU/LD config name: GFLv2 Res2Net-101-DCN -> Res2Net-101-DCN, 2x, COCO. Res2Net is not implemented in this project; every tool stops on it
# with the message below (docs/upstream_configs.md).
upstream_alias = dict(
    repo='HikariTJU/LD', name='ld_gflv2_r2n_r2n_fpn_coco_2x',
    refused='Res2Net backbones are not implemented in this project (GFLv2 and its LD student are): the LD GFLv2 configs are configs/ld/ld_r50-gflv2-r101_fpn_1x_coco.py, configs/ld/ld_r101-gflv2-r101-dcn_fpn_2x_coco.py')
