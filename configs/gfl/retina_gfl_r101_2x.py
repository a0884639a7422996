# HikariTJU/LD config name: RetinaGFLHead R-101, multi-scale 2x, test NMS IoU 0.5 (its twin
# retinagfl_r101_2x_coco.py, the teacher the LD student names, uses 0.6). This project's config:
# configs/gfl/retinanet-gfl_r101_fpn_ms-2x_coco.py with that one override (docs/upstream_configs.md).
_base_ = './retinanet-gfl_r101_fpn_ms-2x_coco.py'
model = dict(test_cfg=dict(nms=dict(iou_threshold=0.5)))
upstream_alias = dict(repo='HikariTJU/LD', name='retina_gfl_r101_2x',
                      ours='configs/gfl/retinanet-gfl_r101_fpn_ms-2x_coco.py', differs='test NMS IoU 0.5 as that file')
