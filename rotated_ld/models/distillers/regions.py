"""Distillation regions: Main (ATSS positives) and the Valuable Localization Region (VLR).

ld-method.md §3. The VLR of one image is computed from three (A, G) matrices — prior/GT IoU,
a DIoU-like score ``D`` and centre distances — so the same code serves horizontal priors against
horizontal GTs (this file provides :func:`hbox_iou_diou`) and the rotated heads (pass an
``overlap_fn`` returning rotated IoU / rotated DIoU).

Reference (HikariTJU/LD ``ATSSAssigner.get_vlr_region``):

1. ``thr_g`` = mean + std (unbiased) of IoU over the ATSS candidates (``topk`` nearest centres per
   level) — the same threshold as the positive assignment;
2. all priors of all levels are candidates; prior ``a`` is VLR for GT ``g`` iff
   ``α·thr_g ≤ D[a, g] < thr_g`` (α = 0.25);
3. the weight of ``a`` is the largest plain IoU over the GTs it is VLR for, 0 otherwise.

Our decisions: ``overlap='diou'`` (true IoU − ρ²/c², the paper's intent, default) or
``'iof_diou'`` (the reference's ``inter / area(prior) − ρ²/c²``, bit-faithful); positives are
excluded by default (``exclude_pos=True``; the reference GFL head keeps them).
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import Tensor

from rotated_ld.registry import TASK_UTILS

VLR_OVERLAPS = ('diou', 'iof_diou')
OverlapFn = Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]


def hbox_iou_diou(priors: Tensor, gts: Tensor, mode: str = 'diou',
                  eps: float = 1e-6) -> tuple[Tensor, Tensor]:
    """IoU and DIoU-like score of horizontal priors against horizontal GTs.

    Args:
        priors (Tensor): (A, 4) xyxy.
        gts (Tensor): (G, 4) xyxy.
        mode (str): ``'diou'``: ``D = IoU − ρ²/c²``; ``'iof_diou'``: ``D = inter/area(prior) − ρ²/c²``
            (the reference's ``bbox_overlaps(mode='diou')``, whose denominator is the prior's area).
        eps (float): guard of the union / area and of ``c²``.

    Returns:
        tuple[Tensor, Tensor]: IoU (A, G) and D (A, G), fp32.
    """
    if mode not in VLR_OVERLAPS:
        raise ValueError(f'vlr overlap={mode!r}; expected one of {VLR_OVERLAPS}')
    a = priors.float()[:, None, :]
    g = gts.float()[None, :, :]
    lt = torch.maximum(a[..., :2], g[..., :2])
    rb = torch.minimum(a[..., 2:], g[..., 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area_a = (a[..., 2:] - a[..., :2]).clamp(min=0).prod(-1)
    area_g = (g[..., 2:] - g[..., :2]).clamp(min=0).prod(-1)
    iou = inter / (area_a + area_g - inter).clamp(min=eps)
    enc = (torch.maximum(a[..., 2:], g[..., 2:]) - torch.minimum(a[..., :2], g[..., :2]))
    c2 = enc.pow(2).sum(-1) + eps
    rho2 = ((a[..., :2] + a[..., 2:]) / 2 - (g[..., :2] + g[..., 2:]) / 2).pow(2).sum(-1)
    base = iou if mode == 'diou' else inter / area_a.clamp(min=eps)
    return iou, base - rho2 / c2


def box_centers(boxes: Tensor) -> Tensor:
    """Centres (N, 2) of xyxy boxes (N, 4) or rotated boxes (N, 5) ``(cx, cy, w, h, t)``."""
    if boxes.shape[-1] == 4:
        return (boxes[..., :2] + boxes[..., 2:4]) / 2
    if boxes.shape[-1] == 5:
        return boxes[..., :2]
    raise ValueError(f'boxes of shape {tuple(boxes.shape)}; expected (..., 4) xyxy or (..., 5) rbox')


def atss_thresholds(iou: Tensor, distances: Tensor, num_level_priors: Sequence[int],
                    topk: int = 9) -> Tensor:
    """ATSS IoU threshold per GT: mean + unbiased std over the ``topk`` nearest priors per level.

    Args:
        iou (Tensor): (A, G) prior/GT IoU.
        distances (Tensor): (A, G) prior-centre to GT-centre distances.
        num_level_priors (Sequence[int]): priors per level, summing to A.
        topk (int): candidates per level and GT.

    Returns:
        Tensor: (G,) thresholds.
    """
    cand, start = [], 0
    for n in num_level_priors:
        k = min(topk, n)
        if k > 0:
            cand.append(distances[start:start + n].topk(k, dim=0, largest=False).indices + start)
        start += n
    idx = torch.cat(cand, dim=0)  # (K, G)
    cand_iou = iou.gather(0, idx)
    # std of a single candidate is NaN (unbiased); the reference has ≥ 9 and never hits this
    std = cand_iou.std(0) if cand_iou.shape[0] > 1 else torch.zeros_like(cand_iou[0])
    return cand_iou.mean(0) + std


def vlr_weights_from_overlaps(iou: Tensor, score: Tensor, thr: Tensor, alpha: float = 0.25,
                              exclude: Tensor | None = None) -> Tensor:
    """VLR weight per prior from precomputed overlaps (ld-method.md §3 steps 4–5).

    Args:
        iou (Tensor): (A, G) plain IoU (the weight).
        score (Tensor): (A, G) the score compared to the thresholds (``D``).
        thr (Tensor): (G,) ATSS thresholds.
        alpha (float): lower bound factor ``α_vl``.
        exclude (Tensor, optional): (A,) bool, priors forced out of the VLR (positives).

    Returns:
        Tensor: (A,) fp32 weights; > 0 exactly on the VLR.
    """
    if iou.shape[1] == 0:
        return iou.new_zeros(iou.shape[0], dtype=torch.float32)
    thr = thr.to(score.dtype)[None, :]
    valid = (score >= alpha * thr) & (score < thr)
    w = torch.where(valid, iou.float(), iou.new_full((), -1.0, dtype=torch.float32)).max(1).values
    w = w.clamp(min=0)
    if exclude is not None:
        w = torch.where(exclude, torch.zeros_like(w), w)
    return w


def hbox_overlap_fn(mode: str = 'diou') -> OverlapFn:
    """Horizontal ``overlap_fn`` for :class:`VLRRegion`: ``(priors, gts) -> (IoU, D)``."""
    def fn(priors: Tensor, gts: Tensor) -> tuple[Tensor, Tensor]:
        return hbox_iou_diou(priors, gts, mode)
    return fn


@TASK_UTILS.register_module()
class VLRRegion:
    """Valuable localization region of one image (ld-method.md §3).

    Args:
        topk (int): ATSS candidates per level for the threshold (9).
        alpha (float): ``α_vl`` — lower bound ``α·thr ≤ D`` (0.25).
        overlap (str): ``'diou'`` (default) or ``'iof_diou'`` (reference-faithful); used when no
            ``overlap_fn`` is given (horizontal boxes).
        exclude_pos (bool): remove positives from the VLR (default True; reference: False).
        overlap_fn (callable, optional): ``(priors, gts) -> (IoU (A, G), D (A, G))`` for other box
            types, e.g. rotated IoU of ``hbox2rbox(priors)`` against rotated GTs.

    Example:
        >>> vlr = VLRRegion()
        >>> w = vlr(priors, [h1 * w1, h2 * w2], gt_bboxes, pos_mask)  # (A,) weights
    """

    def __init__(self, topk: int = 9, alpha: float = 0.25, overlap: str = 'diou',
                 exclude_pos: bool = True, overlap_fn: OverlapFn | None = None) -> None:
        if overlap not in VLR_OVERLAPS:
            raise ValueError(f'overlap={overlap!r}; expected one of {VLR_OVERLAPS}')
        if not 0 <= alpha <= 1:
            raise ValueError(f'alpha={alpha!r}; expected 0 <= alpha <= 1')
        self.topk = topk
        self.alpha = alpha
        self.overlap = overlap
        self.exclude_pos = exclude_pos
        self.overlap_fn = overlap_fn or hbox_overlap_fn(overlap)

    def __call__(self, priors: Tensor, num_level_priors: Sequence[int], gt_bboxes: Tensor,
                 pos_mask: Tensor | None = None, thresholds: Tensor | None = None) -> Tensor:
        """VLR weights of one image.

        Args:
            priors (Tensor): (A, 4) xyxy prior boxes (all levels concatenated).
            num_level_priors (Sequence[int]): priors per level.
            gt_bboxes (Tensor): (G, 4) xyxy or (G, 5) rbox (with a matching ``overlap_fn``).
            pos_mask (Tensor, optional): (A,) bool positives (excluded if ``exclude_pos``).
            thresholds (Tensor, optional): (G,) ATSS thresholds if the assigner already has them.

        Returns:
            Tensor: (A,) fp32 weights, IoU with the GT that put the prior in the VLR, else 0.
        """
        A = priors.shape[0]
        if A == 0 or gt_bboxes.shape[0] == 0:
            return priors.new_zeros(A, dtype=torch.float32)
        iou, score = self.overlap_fn(priors, gt_bboxes)
        if thresholds is None:
            dist = torch.cdist(box_centers(priors).float(), box_centers(gt_bboxes).float())
            thresholds = atss_thresholds(iou, dist, num_level_priors, self.topk)
        exclude = pos_mask if (self.exclude_pos and pos_mask is not None) else None
        return vlr_weights_from_overlaps(iou, score, thresholds, self.alpha, exclude)


def quality_weights(cls_logits: Tensor, pos_mask: Tensor) -> Tensor:
    """Main-region weight ``w_i = max_c σ(sg(x_ic))`` on positives, 0 elsewhere.

    Args:
        cls_logits (Tensor): (P, C) student class logits.
        pos_mask (Tensor): (P,) bool.
    Returns:
        Tensor: (P,) fp32.
    """
    w = cls_logits.detach().float().sigmoid().max(-1).values if cls_logits.shape[-1] else \
        cls_logits.new_zeros(cls_logits.shape[:-1], dtype=torch.float32)
    return torch.where(pos_mask, w, torch.zeros_like(w))
