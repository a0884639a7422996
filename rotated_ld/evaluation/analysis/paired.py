"""Paired comparison of two models on the objects both of them found, with a bootstrap over images.

For every ground-truth object matched (TP at IoU 0.5) by model A *and* model B, the per-object
differences ``B − A`` of IoU and of angle error are taken. The same objects are compared, so the
object-to-object variation cancels: this is much less noisy than the difference of two mAPs.

Confidence interval: cluster bootstrap over images (objects of one image are correlated): draw the
images with replacement ``n_boot`` times (``numpy.random.default_rng(seed)``), take the mean
difference over the objects of the drawn images, report the 2.5 / 97.5 percentiles.
"""
from __future__ import annotations

import numpy as np

from .stats import TPStats

__all__ = ['paired_objects', 'bootstrap_mean_ci', 'paired_summary']


def paired_objects(a: TPStats, b: TPStats) -> dict:
    """Objects matched by both: ``gt``, ``image``, ``label``, ``iou_a``, ``iou_b``, ``angle_a``,
    ``angle_b``, ``det_a``, ``det_b`` ``(P,)`` arrays, sorted by ground-truth index.

    Both stats must come from evaluations on the same image list and ground truth.
    """
    common, ia, ib = np.intersect1d(a.gt, b.gt, assume_unique=True, return_indices=True)
    return dict(gt=common, image=a.image[ia], label=a.label[ia], iou_a=a.iou[ia], iou_b=b.iou[ib],
                angle_a=a.angle_err[ia], angle_b=b.angle_err[ib], det_a=a.det[ia], det_b=b.det[ib],
                centre_a=a.centre_rel[ia], centre_b=b.centre_rel[ib])


def bootstrap_mean_ci(values: np.ndarray, groups: np.ndarray, n_boot: int = 2000, seed: int = 0,
                      level: float = 0.95) -> dict:
    """Mean of ``values`` ``(P,)`` and its cluster-bootstrap CI over ``groups`` ``(P,)`` (image ids).

    Returns ``dict(mean, lo, hi, n, groups)``; ``None`` bounds when there are no values.
    """
    v = np.asarray(values, np.float64)
    g = np.asarray(groups)
    keep = np.isfinite(v)
    v, g = v[keep], g[keep]
    if not len(v):
        return dict(mean=None, lo=None, hi=None, n=0, groups=0)
    uniq, inv = np.unique(g, return_inverse=True)
    sums = np.bincount(inv, weights=v, minlength=len(uniq))
    counts = np.bincount(inv, minlength=len(uniq)).astype(np.float64)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(uniq), size=(n_boot, len(uniq)))
    # mean over the objects of the drawn images (a ratio estimator: images with many objects weigh more)
    means = sums[draws].sum(1) / counts[draws].sum(1)
    alpha = (1 - level) / 2
    lo, hi = np.percentile(means, [100 * alpha, 100 * (1 - alpha)])
    return dict(mean=float(v.mean()), lo=float(lo), hi=float(hi), n=int(len(v)), groups=int(len(uniq)))


def paired_summary(a: TPStats, b: TPStats, n_boot: int = 2000, seed: int = 0) -> dict:
    """IoU gain and angle-error change (degrees) ``B − A`` with bootstrap CIs, plus counts."""
    p = paired_objects(a, b)
    out = dict(objects_both=int(len(p['gt'])), only_a=int(len(np.setdiff1d(a.gt, b.gt))),
               only_b=int(len(np.setdiff1d(b.gt, a.gt))),
               iou_gain=bootstrap_mean_ci(p['iou_b'] - p['iou_a'], p['image'], n_boot, seed),
               angle_change_deg=bootstrap_mean_ci(np.degrees(p['angle_b'] - p['angle_a']), p['image'], n_boot, seed),
               centre_rel_change=bootstrap_mean_ci(p['centre_b'] - p['centre_a'], p['image'], n_boot, seed))
    return out
