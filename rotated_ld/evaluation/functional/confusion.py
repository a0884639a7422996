"""Detection confusion matrix (mmdetection's ``tools/analysis_tools/confusion_matrix.py`` rules).

Matrix ``(C + 1, C + 1)`` of counts: row = ground-truth class, column = predicted class; the last
row / column is *background*. Per image, detections under ``score_thr`` are dropped; then

* every (detection, ground truth) pair with IoU ≥ ``iou_thr`` adds 1 at
  ``[gt class, det class]`` (a detection may count for several overlapping objects, as in mmdet);
* a detection that overlaps no ground truth that way adds 1 at ``[background, det class]``;
* a ground truth that no detection *of its class* overlaps adds 1 at ``[gt class, background]``.

Ignored ground truth (``ignore``: DOTA difficult / split-truncated, COCO crowd) is neither counted
nor missed, and a detection on it is not a background false positive. IoU: polygon IoU with the
DOTA_devkit's semantics for quadrilaterals ``(K, 8)`` (rotated boxes are passed as their corner
polygons), plain IoU for horizontal boxes ``(K, 4)`` xyxy; only pairs whose horizontal bounds overlap
are computed (:func:`~rotated_ld.evaluation.functional.iou.overlap_pairs`).
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from .iou import hbox_iou_pairs, overlap_pairs, poly_bounds, poly_iou_pairs


class ImageDets(NamedTuple):
    """Detections of one image: ``boxes (K, 8)`` polygons or ``(K, 4)`` xyxy, ``scores (K,)``, ``labels (K,)``."""

    boxes: np.ndarray
    scores: np.ndarray
    labels: np.ndarray


class ImageGts(NamedTuple):
    """Ground truth of one image: ``boxes (G, 8)`` / ``(G, 4)``, ``labels (G,)``, ``ignore (G,)`` bool."""

    boxes: np.ndarray
    labels: np.ndarray
    ignore: np.ndarray


def pairwise_iou(dets: np.ndarray, gts: np.ndarray) -> np.ndarray:
    """``(K, G)`` IoU of every detection with every ground truth (0 where the bounds do not overlap)."""
    iou = np.zeros((len(dets), len(gts)), np.float64)
    if not len(dets) or not len(gts):
        return iou
    ia, ib = overlap_pairs(poly_bounds(dets), np.zeros(len(dets)), poly_bounds(gts), np.zeros(len(gts)))
    if len(ia):
        pairs = hbox_iou_pairs if dets.shape[1] == 4 else poly_iou_pairs
        iou[ia, ib] = pairs(dets[ia], gts[ib])
    return iou


def confusion_matrix(dets: Sequence[ImageDets], gts: Sequence[ImageGts], num_classes: int,
                     score_thr: float = 0.3, iou_thr: float = 0.5) -> np.ndarray:
    """``(C + 1, C + 1)`` int64 counts over the images (module docstring); ``dets[i]`` ↔ ``gts[i]``."""
    if len(dets) != len(gts):
        raise ValueError(f'{len(dets)} detection sets for {len(gts)} ground-truth sets')
    cm = np.zeros((num_classes + 1, num_classes + 1), np.int64)
    bg = num_classes
    for d, g in zip(dets, gts):
        keep = np.asarray(d.scores) >= score_thr
        boxes = np.asarray(d.boxes, np.float64)[keep]
        dl = np.asarray(d.labels, np.int64)[keep]
        gb, gl = np.asarray(g.boxes, np.float64), np.asarray(g.labels, np.int64)
        ign = np.asarray(g.ignore, bool).reshape(-1)
        for labels, what in ((dl, 'detection'), (gl, 'ground-truth')):
            if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
                raise ValueError(f'{what} label {int(labels.max())} outside 0..{num_classes - 1}')
        hit = pairwise_iou(boxes, gb) >= iou_thr  # (K, G)
        k, j = np.nonzero(hit & ~ign[None])
        np.add.at(cm, (gl[j], dl[k]), 1)
        unmatched = ~hit.any(1)
        np.add.at(cm, (np.full(int(unmatched.sum()), bg), dl[unmatched]), 1)
        found = (hit & (dl[:, None] == gl[None])).any(0)  # (G,); all False when K = 0
        missed = ~found & ~ign
        np.add.at(cm, (gl[missed], np.full(int(missed.sum()), bg)), 1)
    return cm


__all__ = ['ImageDets', 'ImageGts', 'confusion_matrix', 'pairwise_iou']
