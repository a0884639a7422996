"""Evaluation: metrics (DOTA / VOC / COCO) and the functions behind them (mean AP, IoU, merge).

``rotated_ld.evaluation.functional`` is numpy-only (no torch); the metric classes (MMEngine
``BaseMetric``, torch) load on first access and register in ``METRICS`` when imported, which the
registry does itself (its ``locations``) when a config builds an evaluator.
"""
from .._lazy import lazy_exports

__all__ = ['functional', 'eval_map', 'merge_results', 'DOTAMetric', 'VOCMetric', 'CocoMetric']
__getattr__, __dir__ = lazy_exports(__name__, {
    **dict.fromkeys(('eval_map', 'merge_results'), '.functional'),
    **dict.fromkeys(('DOTAMetric', 'VOCMetric', 'CocoMetric'), '.metrics'),
})
