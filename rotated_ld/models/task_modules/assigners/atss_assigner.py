"""ATSS assignment (Zhang et al. 2020), vectorised over priors × GTs, one image per call."""
from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

import torch
from torch import Tensor
from torchvision.ops import box_iou

from rotated_ld.registry import TASK_UTILS

INF = 1e8


class AssignResult(NamedTuple):
    """Per-prior assignment of one image.

    gt_inds (A,) long: index of the assigned GT, ``-1`` background, ``-2`` ignored.
    max_overlaps (A,): IoU of the prior box with its assigned GT (0 for background).
    labels (A,) long: class of the assigned GT, ``-1`` for background / ignored.
    thresholds (G,): per-GT ATSS threshold ``mean + std`` of the candidates' IoUs.
    overlaps (A, G): prior-box × GT IoU matrix (reused by VLR / imitation masks).
    """
    gt_inds: Tensor
    max_overlaps: Tensor
    labels: Tensor
    thresholds: Tensor
    overlaps: Tensor


def atss_candidates(prior_centers: Tensor, gt_centers: Tensor, num_level_priors: Sequence[int],
                    topk: int) -> Tensor:
    """Per level, the ``topk`` priors whose centres are nearest each GT centre.

    Args:
        prior_centers: (A, 2); gt_centers: (G, 2); num_level_priors: priors per level (sum A).

    Returns:
        (K, G) long prior indices, ``K = Σ_l min(topk, A_l)``.
    """
    dist = torch.cdist(prior_centers, gt_centers.to(prior_centers.dtype))  # (A, G)
    cands, start = [], 0
    for n in num_level_priors:
        k = min(topk, n)
        if k > 0:
            _, idx = dist[start:start + n].topk(k, dim=0, largest=False)
            cands.append(idx + start)
        start += n
    return torch.cat(cands, dim=0)


def atss_threshold(cand_ious: Tensor) -> Tensor:
    """ATSS threshold per GT: mean + unbiased std of its candidates' IoUs (the one copy).

    Args:
        cand_ious (Tensor): (K, G) IoUs of each GT's ``K`` candidates.

    Returns:
        Tensor: (G,) thresholds. With a single candidate (``K = 1``, e.g. one prior per level and
        one level) the unbiased std is NaN; it is taken as 0 so the threshold is that IoU.
    """
    mean = cand_ious.mean(0)
    std = cand_ious.std(0) if cand_ious.shape[0] > 1 else torch.zeros_like(mean)
    return mean + std


@TASK_UTILS.register_module()
class ATSSAssigner:
    """Adaptive Training Sample Selection.

    For each GT: take the ``topk`` priors nearest its centre on every level; threshold = mean + std
    (unbiased) of their IoUs; positives are candidates with IoU ≥ threshold whose CENTRE lies
    strictly inside the GT (all four distances > ``eps`` = 0.01). A prior claimed by several GTs goes
    to the one with the highest IoU. Priors overlapping an ignored box by IoF > ``ignore_iof_thr``
    (when > 0) are excluded from the candidates and marked ignored (``-2``).

    Args:
        topk: candidates per level per GT (9).
        ignore_iof_thr: see above; ``-1`` disables (default, as GFL).

    ``assign(prior_boxes (A, 4) xyxy, num_level_priors, gt_bboxes (G, 4) xyxy, gt_labels (G,),
    gt_bboxes_ignore (I, 4) | None) -> AssignResult``.
    """

    def __init__(self, topk: int = 9, ignore_iof_thr: float = -1.0, eps: float = 0.01):
        self.topk, self.ignore_iof_thr, self.eps = topk, ignore_iof_thr, eps

    def assign(self, prior_boxes: Tensor, num_level_priors: Sequence[int], gt_bboxes: Tensor,
               gt_labels: Tensor, gt_bboxes_ignore: Optional[Tensor] = None) -> AssignResult:
        if not prior_boxes.is_floating_point():
            prior_boxes = prior_boxes.float()
        num_priors, num_gts = prior_boxes.size(0), gt_bboxes.size(0)
        device = prior_boxes.device
        gt_inds = torch.full((num_priors,), -1, dtype=torch.long, device=device)
        max_overlaps = prior_boxes.new_zeros((num_priors,))
        labels = torch.full((num_priors,), -1, dtype=torch.long, device=device)
        if num_gts == 0 or num_priors == 0:
            return AssignResult(gt_inds, max_overlaps, labels, prior_boxes.new_zeros((num_gts,)),
                                prior_boxes.new_zeros((num_priors, num_gts)))
        gt_bboxes = gt_bboxes.to(prior_boxes.dtype)
        overlaps = box_iou(prior_boxes, gt_bboxes)  # (A, G)
        prior_ctr = (prior_boxes[:, :2] + prior_boxes[:, 2:]) / 2
        gt_ctr = (gt_bboxes[:, :2] + gt_bboxes[:, 2:]) / 2
        ignored = None
        if self.ignore_iof_thr > 0 and gt_bboxes_ignore is not None and gt_bboxes_ignore.numel() > 0:
            iof = _iof(prior_boxes, gt_bboxes_ignore.to(prior_boxes.dtype)).max(dim=1).values
            ignored = iof > self.ignore_iof_thr
            # mmdet: distances of ignored priors are set to INF so they are never candidates
            prior_ctr = torch.where(ignored[:, None], prior_ctr.new_full((1, 2), INF), prior_ctr)
        cand = atss_candidates(prior_ctr, gt_ctr, num_level_priors, self.topk)  # (K, G)
        gidx = torch.arange(num_gts, device=device).expand_as(cand)
        cand_ious = overlaps[cand, gidx]  # (K, G)
        thr = atss_threshold(cand_ious)  # unbiased std, as mmdet
        c = prior_ctr[cand]  # (K, G, 2)
        d = torch.stack([c[..., 0] - gt_bboxes[:, 0], c[..., 1] - gt_bboxes[:, 1],
                         gt_bboxes[:, 2] - c[..., 0], gt_bboxes[:, 3] - c[..., 1]], -1)
        is_pos = (cand_ious >= thr[None]) & (d.min(-1).values > self.eps)
        scored = overlaps.new_full((num_priors, num_gts), -INF)
        scored[cand[is_pos], gidx[is_pos]] = cand_ious[is_pos]
        best, arg = scored.max(dim=1)
        pos = best > -INF
        gt_inds[pos] = arg[pos]
        max_overlaps[pos] = best[pos]
        labels[pos] = gt_labels[arg[pos]].long()
        if ignored is not None:
            gt_inds[ignored & ~pos] = -2
        return AssignResult(gt_inds, max_overlaps, labels, thr, overlaps)


def _iof(a: Tensor, b: Tensor) -> Tensor:
    """Intersection over the area of ``a``: (N, 4), (M, 4) → (N, M)."""
    lt = torch.max(a[:, None, :2], b[None, :, :2])
    rb = torch.min(a[:, None, 2:], b[None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    area = ((a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])).clamp(min=1e-6)
    return wh[..., 0] * wh[..., 1] / area[:, None]
