# HikariTJU/LD config name, kept so that its commands run as written: LD for RetinaNet, RetinaNet-GFL R-101 ms-2x
# teacher -> R-50 student, 1x. This project's config: configs/ld/ld_r50-retinanet-gfl-r101_fpn_1x_coco.py
# (tools print that name when this file is loaded; docs/upstream_configs.md).
_base_ = './ld_r50-retinanet-gfl-r101_fpn_1x_coco.py'
upstream_alias = dict(repo='HikariTJU/LD', name='ld_retina_r50_1x',
                      ours='configs/ld/ld_r50-retinanet-gfl-r101_fpn_1x_coco.py')
