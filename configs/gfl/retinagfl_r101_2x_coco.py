# HikariTJU/LD config name of the LD RetinaNet student's teacher (RetinaGFLHead R-101, multi-scale 2x).
# This project's config: configs/gfl/retinanet-gfl_r101_fpn_ms-2x_coco.py (docs/upstream_configs.md).
_base_ = './retinanet-gfl_r101_fpn_ms-2x_coco.py'
upstream_alias = dict(repo='HikariTJU/LD', name='retinagfl_r101_2x_coco',
                      ours='configs/gfl/retinanet-gfl_r101_fpn_ms-2x_coco.py')
