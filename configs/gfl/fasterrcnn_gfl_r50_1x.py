# HikariTJU/LD config name: Faster R-CNN teacher with a GFL distribution box branch. Not implemented in this project; every tool stops on it
# with the message below (docs/upstream_configs.md).
upstream_alias = dict(
    repo='HikariTJU/LD', name='fasterrcnn_gfl_r50_1x',
    refused='Faster R-CNN teachers with GFL distribution box branches are not implemented yet; the GFL teachers are configs/gfl/gfl_r101_fpn_ms-2x_coco.py and configs/gfl/gfl_r101-dcn_fpn_ms-2x_coco.py')
