"""Statistics of matched true positives: IoU, centre, size and angle errors, per class and size bucket.

A detection is a *matched true positive* when the scorer counts it as a TP at IoU 0.5 (one-to-one,
the DOTA / VOC rule of :func:`~rotated_ld.evaluation.functional.eval_map`); its object is the
ground truth it matched. Errors are those of :mod:`.geometry` (angle modulo the box symmetry).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .evaluate import ModelEval
from .geometry import SIZE_BUCKETS, angle_error, centre_error, size_bucket, size_error

__all__ = ['TPStats', 'tp_stats', 'summarise', 'describe']


@dataclass
class TPStats:
    """Per matched TP (``M`` of them), aligned arrays.

    Attributes:
        det, gt: ``(M,)`` flat detection / ground-truth indices (orders of ``ModelEval.matches``).
        image: ``(M,)`` image index; label: ``(M,)`` class; score: ``(M,)``.
        iou: ``(M,)`` scorer IoU; centre_px, centre_rel: ``(M,)``; size_err: ``(M,)`` relative.
        angle_err: ``(M,)`` radians, NaN for horizontal boxes; bucket: ``(M,)`` size bucket names.
    """

    det: np.ndarray
    gt: np.ndarray
    image: np.ndarray
    label: np.ndarray
    score: np.ndarray
    iou: np.ndarray
    centre_px: np.ndarray
    centre_rel: np.ndarray
    size_err: np.ndarray
    angle_err: np.ndarray
    bucket: np.ndarray


def tp_stats(ev: ModelEval, thr: float = 0.5, square_ratio: float = 1.2, buckets=SIZE_BUCKETS) -> TPStats:
    """:class:`TPStats` of the true positives of ``ev`` at IoU ``thr``."""
    m = ev.matches
    det = np.flatnonzero(ev.tp_mask(thr))
    gt = m.best_gt[det]
    dp, gp = ev.det_params[det], ev.gt_params[gt]
    c_px, c_rel = centre_error(dp, gp)
    ang = angle_error(dp, gp, square_ratio) if ev.kind == 'rotated' else np.full(len(det), np.nan)
    return TPStats(det=det, gt=gt, image=m.det_img[det], label=m.det_label[det], score=m.det_score[det],
                   iou=m.best_iou[det], centre_px=c_px, centre_rel=c_rel, size_err=size_error(dp, gp),
                   angle_err=ang, bucket=size_bucket(gp, buckets))


def describe(x: np.ndarray) -> dict:
    """``n``, mean, median, p10, p90 of the finite values (None when there are none)."""
    x = np.asarray(x, np.float64)
    x = x[np.isfinite(x)]
    if not len(x):
        return dict(n=0, mean=None, median=None, p10=None, p90=None)
    return dict(n=int(len(x)), mean=float(x.mean()), median=float(np.median(x)),
                p10=float(np.percentile(x, 10)), p90=float(np.percentile(x, 90)))


_FIELDS = (('iou', 1.0), ('centre_px', 1.0), ('centre_rel', 1.0), ('size_err', 1.0), ('angle_err_deg', 180 / np.pi))


def _group(s: TPStats, sel: np.ndarray) -> dict:
    out = {}
    for name, scale in _FIELDS:
        vals = (s.angle_err if name == 'angle_err_deg' else getattr(s, name))[sel] * scale
        out[name] = describe(vals)
    return out


def summarise(s: TPStats, classes, buckets=SIZE_BUCKETS) -> dict:
    """JSON-ready ``{'all': ..., 'classes': {name: ...}, 'buckets': {name: ...}}`` of :func:`describe` rows."""
    out = {'all': _group(s, np.ones(len(s.det), bool)), 'classes': {}, 'buckets': {}}
    for c, name in enumerate(classes):
        sel = s.label == c
        if sel.any():
            out['classes'][name] = _group(s, sel)
    for name, _, _ in buckets:
        sel = s.bucket == name
        out['buckets'][name] = _group(s, sel)
    return out
