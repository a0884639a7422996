"""Metrics registered in ``METRICS``: DOTAMetric (rotated, patch / merged), VOCMetric, CocoMetric, and
DumpDetResults (``tools/test.py --out``)."""
from .coco_metric import CocoMetric
from .dota_metric import DOTAMetric
from .dump_det_results import DumpDetResults
from .voc_metric import VOCMetric

__all__ = ['DOTAMetric', 'VOCMetric', 'CocoMetric', 'DumpDetResults']
