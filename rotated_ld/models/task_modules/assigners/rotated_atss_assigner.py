"""Rotated ATSS assigner (Zhang et al., CVPR 2020, with rotated IoU and a rotated inside test).

Per image, for every ground-truth rotated box ``g``:

1. candidates: on every pyramid level the ``topk`` priors whose centres are nearest to ``g``'s
   centre (Euclidean distance);
2. ``IoU[a, g]`` = rotated IoU between the prior's square box (side ``8·stride``, taken as a
   horizontal rbox ``(cx, cy, s, s, 0)``) and ``g``;
3. threshold ``thr_g`` = mean + unbiased std of the candidates' IoUs;
4. a candidate is positive for ``g`` iff ``IoU ≥ thr_g`` **and** its centre lies strictly inside
   the *rotated* box ``g`` (all four edge distances in ``g``'s frame > ``eps``);
5. a prior positive for several GTs goes to the one with the highest IoU.

IoUs are only computed for the ``topk·L`` candidate pairs of each GT (aligned rotated IoU), not
for all ``A × G`` pairs: steps 3–5 never look at other pairs, and the exact rotated IoU is the
expensive part on CPU; the result equals mmdet-style ATSS, which builds the full matrix. The
returned :class:`AssignResult` (the horizontal ATSS's, same conventions: ``gt_inds`` −1 =
background, else the 0-based GT index) therefore holds in ``overlaps`` (A, G) the IoUs of the
candidate pairs and 0 elsewhere. Ignored GTs (difficult objects) are not used for assignment
(``gt_bboxes_ignore`` is accepted and unused, like ``ignore_iof_thr=-1`` of GFL).
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import torch
from torch import Tensor

from rotated_ld.ops import box_iou_rotated
from rotated_ld.registry import TASK_UTILS
from rotated_ld.structures.bbox import as_rboxes

from .atss_assigner import AssignResult, atss_candidates, atss_threshold


def _default_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    return box_iou_rotated(boxes1, boxes2, aligned=True)


def points_in_rboxes(points: Tensor, rboxes: Tensor, eps: float = 0.01) -> Tensor:
    """Whether each point lies strictly inside each rotated box (edge distances > eps).

    Args:
        points (Tensor): (..., 2) points, broadcastable against ``rboxes[..., :2]``.
        rboxes (Tensor): (..., 5) rotated boxes ``(cx, cy, w, h, θ)`` radians, any version.

    Returns:
        Tensor: (...) bool.
    """
    d = points - rboxes[..., :2]
    cos, sin = rboxes[..., 4].cos(), rboxes[..., 4].sin()
    qx = cos * d[..., 0] + sin * d[..., 1]
    qy = -sin * d[..., 0] + cos * d[..., 1]
    return ((rboxes[..., 2] / 2 - qx.abs()) > eps) & ((rboxes[..., 3] / 2 - qy.abs()) > eps)


@TASK_UTILS.register_module()
class RotatedATSSAssigner:
    """ATSS with rotated IoU between square priors and rotated GTs (see module docstring).

    Args:
        topk (int): candidates per level and GT. Default 9.
        eps (float): margin of the strictly-inside test, in pixels. Default 0.01.
        iou_calculator (callable, optional): ``f(b1 (K, 5), b2 (K, 5)) -> (K,)`` aligned
            rotated IoU; default ``rotated_ld.ops.box_iou_rotated(..., aligned=True)``.
    """

    def __init__(self, topk: int = 9, eps: float = 0.01,
                 iou_calculator: Optional[Callable[[Tensor, Tensor], Tensor]] = None) -> None:
        self.topk = topk
        self.eps = eps
        self.iou_calculator = iou_calculator or _default_iou

    def assign(self, priors: Tensor, num_level_priors: Sequence[int], gt_bboxes: Tensor,
               gt_labels: Tensor, gt_bboxes_ignore: Optional[Tensor] = None) -> AssignResult:
        """Assign priors of one image.

        Args:
            priors (Tensor): (A, 4) xyxy square prior boxes (or (A, 5) rboxes), all levels
                concatenated in level order.
            num_level_priors (Sequence[int]): priors per level, summing to A.
            gt_bboxes (Tensor): (G, 5) rotated GT boxes ``(cx, cy, w, h, θ)`` radians.
            gt_labels (Tensor): (G,) long.
            gt_bboxes_ignore (Tensor, optional): unused (see module docstring).

        Returns:
            AssignResult: ``gt_inds`` (A,) −1 or GT index, ``max_overlaps`` (A,),
            ``labels`` (A,) −1 or class, ``thresholds`` (G,), ``overlaps`` (A, G) candidate IoUs.
        """
        num_priors, num_gts = priors.shape[0], gt_bboxes.shape[0]
        device = priors.device
        gt_inds = torch.full((num_priors,), -1, dtype=torch.long, device=device)
        max_overlaps = priors.new_zeros((num_priors,), dtype=torch.float32)
        labels = torch.full((num_priors,), -1, dtype=torch.long, device=device)
        if num_gts == 0 or num_priors == 0:
            return AssignResult(gt_inds, max_overlaps, labels, priors.new_zeros((num_gts,)),
                                priors.new_zeros((num_priors, num_gts)))
        prior_rb = as_rboxes(priors).float()
        gt = gt_bboxes.float()
        cand = atss_candidates(prior_rb[:, :2], gt[:, :2], num_level_priors, self.topk)  # (K, G)
        num_cand = cand.shape[0]
        gt_rep = gt[None].expand(num_cand, num_gts, 5)
        cand_iou = self.iou_calculator(prior_rb[cand.reshape(-1)],
                                       gt_rep.reshape(-1, 5)).reshape(num_cand, num_gts).float()
        thr = atss_threshold(cand_iou)
        inside = points_in_rboxes(prior_rb[cand, :2], gt_rep, self.eps)  # (K, G)
        is_pos = (cand_iou >= thr[None]) & inside
        gt_cols = torch.arange(num_gts, device=device)[None].expand(num_cand, num_gts)
        overlaps = prior_rb.new_zeros((num_priors, num_gts))
        overlaps[cand, gt_cols] = cand_iou
        # positive candidate IoUs in (A, G), −inf elsewhere; a prior goes to its best GT
        scored = prior_rb.new_full((num_priors, num_gts), -float('inf'))
        scored[cand[is_pos], gt_cols[is_pos]] = cand_iou[is_pos]
        best, best_gt = scored.max(dim=1)
        pos = best > -float('inf')
        gt_inds[pos] = best_gt[pos]
        max_overlaps[pos] = best[pos]
        labels[pos] = gt_labels[best_gt[pos]].long()
        return AssignResult(gt_inds, max_overlaps, labels, thr, overlaps)
