"""Compare detectors beyond mAP: matched-TP error statistics, paired per-object gains, TIDE-style errors.

Small numpy modules (no torch): :mod:`.geometry` (canonical boxes, angle error modulo the box
symmetry), :mod:`.evaluate` (the scorer with per-detection outcomes), :mod:`.stats`, :mod:`.paired`
(bootstrap over images), :mod:`.errors` (TIDE breakdown), :mod:`.loading` (results and ground
truth from files), :mod:`.plots` and :mod:`.html_report` (matplotlib Agg, base64 HTML) and
:mod:`.gallery` (crops drawn with :mod:`rotated_ld.visualization`). See docs/analysis.md.
"""
from .errors import ERROR_TYPES, classify_errors, error_breakdown
from .evaluate import ModelEval, evaluate_model
from .geometry import SIZE_BUCKETS, angle_error, canonical_rboxes, centre_error, size_error
from .paired import bootstrap_mean_ci, paired_objects, paired_summary
from .stats import TPStats, summarise, tp_stats

__all__ = ['ModelEval', 'evaluate_model', 'TPStats', 'tp_stats', 'summarise', 'paired_objects', 'paired_summary',
           'bootstrap_mean_ci', 'ERROR_TYPES', 'classify_errors', 'error_breakdown', 'canonical_rboxes',
           'angle_error', 'centre_error', 'size_error', 'SIZE_BUCKETS']
