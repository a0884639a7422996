"""Metrics registered in ``METRICS``: DOTAMetric (rotated, patch / merged), VOCMetric, CocoMetric."""
from .coco_metric import CocoMetric
from .dota_metric import DOTAMetric
from .voc_metric import VOCMetric

__all__ = ['DOTAMetric', 'VOCMetric', 'CocoMetric']
