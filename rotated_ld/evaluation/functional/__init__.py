"""Evaluation functions: VOC/DOTA mean AP (polygons and horizontal boxes), IoU, patch merge, DOTA I/O."""
from .confusion import ImageDets, ImageGts, confusion_matrix
from .dota_io import (
    DOTA_CLASS_SETS,
    load_labeltxt,
    load_labeltxt_dir,
    load_task1_dir,
    rbox2poly_np,
    resolve_classes,
    write_task1,
)
from .iou import devkit_poly_iou, hbox_iou_pairs, is_convex_quad, poly_iou_pairs
from .mean_ap import COCO_IOU_THRS, DetMatches, MeanAPResult, average_precision, eval_map
from .merge import MergeStats, merge_results, nms_polygons
from .submission_check import check_submission

__all__ = ['eval_map', 'average_precision', 'MeanAPResult', 'DetMatches', 'COCO_IOU_THRS', 'poly_iou_pairs',
           'hbox_iou_pairs', 'devkit_poly_iou', 'is_convex_quad', 'merge_results', 'nms_polygons',
           'MergeStats', 'DOTA_CLASS_SETS', 'resolve_classes', 'load_labeltxt', 'load_labeltxt_dir',
           'load_task1_dir', 'write_task1', 'rbox2poly_np', 'check_submission', 'confusion_matrix', 'ImageDets',
           'ImageGts']
