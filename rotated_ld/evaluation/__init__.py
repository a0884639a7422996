"""Evaluation: metrics (DOTA / VOC / COCO) and the functions behind them (mean AP, IoU, merge)."""
from . import functional
from .functional import eval_map, merge_results
from .metrics import CocoMetric, DOTAMetric, VOCMetric

__all__ = ['functional', 'eval_map', 'merge_results', 'DOTAMetric', 'VOCMetric', 'CocoMetric']
