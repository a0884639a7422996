# HikariTJU/LD config name: RetinaNet R-50 student from a RetinaNet-GFL R-101 teacher. Not implemented in this project; every tool stops on it
# with the message below (docs/upstream_configs.md).
upstream_alias = dict(
    repo='HikariTJU/LD', name='ld_retina_r50_1x',
    refused='horizontal RetinaNet students (LDRetinaHead) are not implemented yet; LD for rotated RetinaNet is configs/rotated_ld_retinanet/rotated_ld_r18-rretinanet-r34_fpn_1x_dota_oc.py, for GFL configs/ld/ld_r50-gfl-r101_fpn_1x_coco.py')
