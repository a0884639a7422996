# HikariTJU/LD config name: Faster R-CNN R-50 with LD on its RPN (LDRPNHead). Not implemented in this project
# (no two-stage detector; why, and what it would take: docs/ld.md "Two-stage detectors"); every tool stops on it
# with the message below (docs/upstream_configs.md).
upstream_alias = dict(
    repo='HikariTJU/LD', name='ld_r50_faster_r101_1x',
    refused='two-stage detectors (Faster R-CNN, LDRPNHead) are not implemented, see docs/ld.md "Two-stage detectors". LD exists here for dense detectors, e.g. configs/ld/ld_r50-gfl-r101_fpn_1x_coco.py, configs/ld/ld_r50-retinanet-gfl-r101_fpn_1x_coco.py (RetinaNet, the anchor-based one-stage counterpart)')
