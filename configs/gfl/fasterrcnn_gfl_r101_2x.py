# HikariTJU/LD config name: Faster R-CNN teacher with a GFL distribution box branch. Not implemented in this project
# (no two-stage detector; why, and what it would take: docs/ld.md "Two-stage detectors"); every tool stops on it
# with the message below (docs/upstream_configs.md).
upstream_alias = dict(
    repo='HikariTJU/LD', name='fasterrcnn_gfl_r101_2x',
    refused='two-stage detectors (Faster R-CNN with a GFL box branch) are not implemented, see docs/ld.md "Two-stage detectors"; the dense teachers are configs/gfl/gfl_r101_fpn_ms-2x_coco.py and configs/gfl/retinanet-gfl_r101_fpn_ms-2x_coco.py')
