"""Greedy NMS of rotated boxes (exact IoU, sparse suppression graph, device follows inputs).

Greedy NMS keeps the highest-scoring box, drops every box whose IoU with it is ``> iou_threshold``
and repeats; ties in score are broken by index (stable sort), so the kept set equals the textbook
loop. We compute it in two vectorised steps instead of one IoU row per kept box:

1. all pairs ``(i, j), i < j`` in score order whose enclosing xyxy boxes overlap (chunked grid
   test) get the exact rotated IoU (:func:`.iou_rotated.rbox_intersection_aligned`); the pairs
   over the threshold form a sparse "i would suppress j" graph;
2. one sweep over the rows of that graph in score order (only boxes that suppress someone): a
   box that is still alive suppresses its row. Boxes that suppress nobody cost nothing here.

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


def _suppression_graph(boxes: Tensor, iou_threshold: float, idxs: Optional[Tensor]) -> Tuple[Tensor, Tensor]:
    """Pairs ``(i, j)``, ``i < j`` (row-major order) of score-sorted boxes with IoU > threshold."""
    n = boxes.shape[0]
    hb = rbox2hbox(boxes)
    rows = max(1, PREFILTER_CHUNK // n)
    out_i, out_j = [], []
    for r0 in range(0, n, rows):
        r1 = min(n, r0 + rows)
        a, b = hb[r0:r1, None, :], hb[None, r0:, :]
        mask = (a[..., 0] < b[..., 2]) & (b[..., 0] < a[..., 2])
        mask &= (a[..., 1] < b[..., 3]) & (b[..., 1] < a[..., 3])
        if idxs is not None:
            mask &= idxs[r0:r1, None] == idxs[None, r0:]
        mask = torch.triu(mask, diagonal=1)  # columns start at r0: keep j > i
        ii, jj = mask.nonzero(as_tuple=True)
        ii, jj = ii + r0, jj + r0
        for k in range(0, ii.numel(), EXACT_CHUNK):
            i, j = ii[k:k + EXACT_CHUNK], jj[k:k + EXACT_CHUNK]
            over = _aligned_iou(boxes[i], boxes[j], 'iou') > iou_threshold
            out_i.append(i[over])
            out_j.append(j[over])
    if not out_i:
        e = boxes.new_zeros((0,), dtype=torch.long)
        return e, e
    return torch.cat(out_i), torch.cat(out_j)


def _greedy_sweep(n: int, ii: np.ndarray, jj: np.ndarray) -> np.ndarray:
    """Alive mask ``(n,)`` after greedy suppression along the sorted edge list ``ii -> jj``."""
    suppressed = np.zeros(n, dtype=bool)
    if ii.size == 0:
        return ~suppressed
    starts = np.flatnonzero(np.r_[True, ii[1:] != ii[:-1]])
    ends = np.r_[starts[1:], ii.size]
    for s, e in zip(starts.tolist(), ends.tolist()):
        if not suppressed[ii[s]]:  # rows are in score order: i's own fate is already final
            suppressed[jj[s:e]] = True
    return ~suppressed


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
        ii, jj = _suppression_graph(b, float(iou_threshold), None if idxs is None else idxs[order])
        alive = _greedy_sweep(n, ii.cpu().numpy(), jj.cpu().numpy())
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
