# HikariTJU/LD config name: RetinaNet teacher with a GFL distribution box branch. Not implemented in this project; every tool stops on it
# with the message below (docs/upstream_configs.md).
upstream_alias = dict(
    repo='HikariTJU/LD', name='retina_gfl_r101_2x',
    refused='RetinaNet teachers with GFL distribution box branches are not implemented yet; the GFL teachers are configs/gfl/gfl_r101_fpn_ms-2x_coco.py and configs/gfl/gfl_r101-dcn_fpn_ms-2x_coco.py')
