"""Greedy NMS of rotated boxes (exact IoU, sparse suppression graph, device follows inputs).

Greedy NMS keeps the highest-scoring box, drops every box whose IoU with it is ``> iou_threshold``
and repeats; ties in score are broken by index (stable sort), so the kept set equals the textbook
loop. We compute it in two vectorised steps instead of one IoU row per kept box:

1. boxes are taken in score order in blocks of still-alive rows; each row is paired with the
   later still-alive boxes whose enclosing xyxy boxes overlap it (grid test), and only those
   pairs get the exact rotated IoU (:func:`.iou_rotated.rbox_intersection_aligned`);
2. a sweep over the block's "i would suppress j" edges (IoU > threshold) in score order: a row
   that is still alive suppresses its edges. Rows already suppressed by earlier blocks are never
   paired at all, so heavy suppression (typical for dense-head proposals) makes NMS cheaper.

``batched_nms_rotated`` restricts pairs to equal class ids inside step 1, so classes never interact
(no coordinate-offset trick, hence no float32 precision loss on large offsets).
"""
from typing import Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from ..structures.bbox import rbox2hbox
from .iou_rotated import EXACT_CHUNK, PREFILTER_CHUNK, _aligned_iou

__all__ = ['nms_rotated', 'batched_nms_rotated', 'multiclass_nms_rotated']


def _greedy_keep(boxes: Tensor, iou_threshold: float, idxs: Optional[Tensor]) -> np.ndarray:
    """Alive mask ``(n,)`` of greedy NMS over score-sorted ``boxes`` (row 0 = best)."""
    n = boxes.shape[0]
    dev = boxes.device
    hb = rbox2hbox(boxes)
    hbt = hb.T.contiguous()  # (4, n): contiguous rows for the grid test
    suppressed = np.zeros(n, dtype=bool)
    r0 = 0
    while r0 < n:
        alive = np.flatnonzero(~suppressed[r0:]) + r0  # rows >= r0 still alive, ascending
        if alive.size < 2:
            break
        nb = max(1, min(alive.size - 1, PREFILTER_CHUNK // alive.size))
        rows_np, cols_np = alive[:nb], alive[1:]
        rows, cols = torch.from_numpy(rows_np).to(dev), torch.from_numpy(cols_np).to(dev)
        a, b = hb[rows], hbt[:, cols]
        mask = (a[:, 0:1] < b[2]) & (b[0] < a[:, 2:3])
        mask &= (a[:, 1:2] < b[3]) & (b[1] < a[:, 3:4])
        mask &= cols[None, :] > rows[:, None]  # each pair once, i before j in score order
        if idxs is not None:  # never across classes
            mask &= idxs[rows][:, None] == idxs[cols][None, :]
        ii, jj = mask.nonzero(as_tuple=True)
        ii, jj = rows[ii], cols[jj]
        hits_i, hits_j = [], []
        for k in range(0, ii.numel(), EXACT_CHUNK):
            i, j = ii[k:k + EXACT_CHUNK], jj[k:k + EXACT_CHUNK]
            over = _aligned_iou(boxes[i], boxes[j], 'iou') > iou_threshold
            hits_i.append(i[over])
            hits_j.append(j[over])
        if hits_i:
            _sweep(suppressed, torch.cat(hits_i).cpu().numpy(), torch.cat(hits_j).cpu().numpy())
        r0 = int(rows_np[-1]) + 1
    return ~suppressed


def _sweep(suppressed: np.ndarray, ii: np.ndarray, jj: np.ndarray) -> None:
    """Greedy suppression along edges ``ii -> jj`` grouped by ascending ``ii`` (in place)."""
    if ii.size == 0:
        return
    starts = np.flatnonzero(np.r_[True, ii[1:] != ii[:-1]])
    ends = np.r_[starts[1:], ii.size]
    for s, e in zip(starts.tolist(), ends.tolist()):
        if not suppressed[ii[s]]:  # rows come in score order: i's own fate is already final
            suppressed[jj[s:e]] = True


def _nms(boxes: Tensor, scores: Tensor, iou_threshold: float, idxs: Optional[Tensor]) -> Tensor:
    if boxes.dim() != 2 or boxes.shape[-1] != 5:
        raise ValueError(f'boxes must be (N, 5) rboxes; got {tuple(boxes.shape)}')
    if scores.shape != boxes.shape[:1]:
        raise ValueError(f'scores must be (N,) = ({boxes.shape[0]},); got {tuple(scores.shape)}')
    n = boxes.shape[0]
    if n == 0:
        return torch.zeros((0,), dtype=torch.long, device=boxes.device)
    with torch.no_grad():
        order = torch.sort(scores, descending=True, stable=True)[1]  # ties: lower index first
        b = boxes[order]
        if not torch.is_floating_point(b) or b.dtype in (torch.float16, torch.bfloat16):
            b = b.float()  # fp16 range is short for areas
        alive = _greedy_keep(b, float(iou_threshold), None if idxs is None else idxs[order])
        keep_sorted = torch.from_numpy(np.flatnonzero(alive)).to(boxes.device)
    return order[keep_sorted]


def nms_rotated(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """Greedy rotated NMS.

    Args:
        boxes: ``(N, 5)`` rboxes ``(cx, cy, w, h, t)``, radians.
        scores: ``(N,)``.
        iou_threshold: a box is dropped when its IoU with a kept, higher-ranked box is ``>`` this.

    Returns:
        ``(K,)`` long indices into ``boxes``, sorted by decreasing score (ties: lower index first).
    """
    return _nms(boxes, scores, iou_threshold, None)


def batched_nms_rotated(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float) -> Tensor:
    """Rotated NMS performed independently per category id ``idxs`` ``(N,)``.

    Returns ``(K,)`` long indices sorted by decreasing score, as :func:`nms_rotated`. Boxes of
    different ids never suppress each other (pairs are restricted to equal ids, no offsets).
    """
    if idxs.shape != boxes.shape[:1]:
        raise ValueError(f'idxs must be (N,) = ({boxes.shape[0]},); got {tuple(idxs.shape)}')
    return _nms(boxes, scores, iou_threshold, idxs)


def multiclass_nms_rotated(multi_bboxes: Tensor, multi_scores: Tensor, score_thr: float,
                           iou_threshold: float, max_per_img: int = -1,
                           score_factors: Optional[Tensor] = None
                           ) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Score threshold + per-class rotated NMS + top-k, as mmrotate's ``multiclass_nms_rotated``.

    Args:
        multi_bboxes: ``(N, 5)`` one box per row shared by all classes, or ``(N, C, 5)`` one box
            per class.
        multi_scores: ``(N, C)`` class scores (no background column).
        score_thr: candidates need ``score > score_thr``.
        iou_threshold: NMS IoU threshold (per class).
        max_per_img: keep at most this many (highest scores); ``-1`` keeps all.
        score_factors: optional ``(N,)`` multiplied into the scores before thresholding.

    Returns:
        ``(boxes (K, 5), scores (K,), labels (K,) long, inds (K,) long)``, sorted by decreasing
        score; ``inds`` is the source row in ``multi_bboxes`` of each kept box.
    """
    n, c = multi_scores.shape
    if multi_bboxes.dim() == 2:
        if multi_bboxes.shape != (n, 5):
            raise ValueError(f'multi_bboxes must be (N, 5) or (N, C, 5); got {tuple(multi_bboxes.shape)}')
    elif multi_bboxes.shape != (n, c, 5):
        raise ValueError(f'multi_bboxes must be (N, 5) or (N, C, 5) with N={n}, C={c}; '
                         f'got {tuple(multi_bboxes.shape)}')
    scores = multi_scores if score_factors is None else multi_scores * score_factors[:, None]
    rows, labels = (scores > score_thr).nonzero(as_tuple=True)
    boxes = multi_bboxes[rows] if multi_bboxes.dim() == 2 else multi_bboxes[rows, labels]
    scores = scores[rows, labels]
    keep = batched_nms_rotated(boxes, scores, labels, iou_threshold)
    if max_per_img > 0:
        keep = keep[:max_per_img]
    return boxes[keep], scores[keep], labels[keep], rows[keep]
