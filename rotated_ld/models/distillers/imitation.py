"""Feature-imitation regions of the LD baselines (docs/method.md §6).

Methods (``imitation_method``):

* ``'fitnet'`` — FitNets: all locations (our decision; the reference uses the inside-GT mask);
* ``'ingt'`` — locations whose prior centre lies strictly inside a GT box (the README's
  "Inside GT Box" row);
* ``'finegrained'`` (alias ``'finegrain'``) — prior IoU with a GT > 0.5 × that GT's max prior IoU;
* ``'decouple'`` — DeFeat: inside-GT locations as foreground, the rest background with weight 2
  (the reference's fg/bg row-mismatch bug is not reproduced);
* ``'gibox'`` — General Instance boxes: per image and level, GI score ``max_c |σ(T) − σ(S)|``,
  GI box = teacher's decoded box where the teacher scores higher on that class, else the
  student's; NMS 0.3 on GI boxes, top 10 per level (per image: our decision, the reference
  mixes the images of a batch).

All functions are box-type-agnostic: GTs are (G, 4) xyxy or (G, 5) ``(cx, cy, w, h, t)``
radians; ``gibox_mask`` takes an ``nms_fn`` so rotated heads can pass rotated NMS.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor
from torchvision.ops import batched_nms

IMITATION_METHODS = ('fitnet', 'ingt', 'finegrained', 'decouple', 'gibox')
_ALIASES = {'finegrain': 'finegrained', 'fine_grained': 'finegrained', 'inside_gt': 'ingt'}


def canonical_imitation_method(method: str | None) -> str | None:
    """Normalise an ``imitation_method`` name (``None`` = no imitation); raise on unknown ones."""
    if method is None:
        return None
    m = _ALIASES.get(method, method)
    if m not in IMITATION_METHODS:
        raise ValueError(f'imitation_method={method!r}; expected one of {IMITATION_METHODS} '
                         f'(aliases {sorted(_ALIASES)}) or None')
    return m


def inside_gt_mask(points: Tensor, gt_bboxes: Tensor) -> Tensor:
    """Whether each point lies strictly inside any GT box.

    Args:
        points (Tensor): (A, 2) prior centres (x, y), pixels.
        gt_bboxes (Tensor): (G, 4) xyxy or (G, 5) ``(cx, cy, w, h, t)`` with t in radians.

    Returns:
        Tensor: (A,) bool.
    """
    if gt_bboxes.shape[0] == 0:
        return points.new_zeros(points.shape[0], dtype=torch.bool)
    p = points.float()[:, None, :]
    g = gt_bboxes.float()[None]
    if gt_bboxes.shape[-1] == 4:
        inside = ((p[..., 0] > g[..., 0]) & (p[..., 0] < g[..., 2])
                  & (p[..., 1] > g[..., 1]) & (p[..., 1] < g[..., 3]))
    else:
        d = p - g[..., :2]
        cos, sin = torch.cos(g[..., 4]), torch.sin(g[..., 4])
        u = d[..., 0] * cos + d[..., 1] * sin       # along the box's w axis
        v = -d[..., 0] * sin + d[..., 1] * cos      # along the box's h axis
        inside = (u.abs() < g[..., 2] / 2) & (v.abs() < g[..., 3] / 2)
    return inside.any(1)


def finegrained_mask(iou: Tensor) -> Tensor:
    """``iou[a, g] > 0.5 · max_a iou[a, g]`` for any GT ``g`` (Wang et al., fine-grained imitation).

    Args:
        iou (Tensor): (A, G) prior/GT IoU (horizontal or rotated).
    Returns:
        Tensor: (A,) bool.
    """
    if iou.shape[1] == 0 or iou.shape[0] == 0:
        return iou.new_zeros(iou.shape[0], dtype=torch.bool)
    return (iou > 0.5 * iou.max(0, keepdim=True).values).any(1)


def imitation_mask(method: str, points: Tensor, gt_bboxes: Tensor,
                   iou: Tensor | None = None) -> Tensor:
    """Per-prior imitation mask of one image for the GT-defined methods.

    Args:
        method (str): one of :data:`IMITATION_METHODS` (``'gibox'`` has no GT-defined mask: it
            returns all-False here and is selected from predictions by :func:`gibox_mask`).
        points (Tensor): (A, 2) prior centres.
        gt_bboxes (Tensor): (G, 4) or (G, 5).
        iou (Tensor, optional): (A, G) prior/GT IoU, needed by ``'finegrained'``.

    Returns:
        Tensor: (A,) bool; for ``'decouple'`` it is the foreground mask.
    """
    method = canonical_imitation_method(method)
    A = points.shape[0]
    if method == 'fitnet':
        return points.new_ones(A, dtype=torch.bool)
    if method == 'finegrained':
        if iou is None:
            raise ValueError("imitation_method='finegrained' needs the prior/GT IoU matrix")
        return finegrained_mask(iou)
    if method == 'gibox':
        return points.new_zeros(A, dtype=torch.bool)
    return inside_gt_mask(points, gt_bboxes)


def gibox_mask(student_cls: Tensor, teacher_cls: Tensor, student_boxes: Tensor,
               teacher_boxes: Tensor, group_ids: Tensor, iou_threshold: float = 0.3,
               topk: int = 10,
               nms_fn: Callable[[Tensor, Tensor, Tensor, float], Tensor] = batched_nms) -> Tensor:
    """General-Instance selection: top ``topk`` GI boxes after NMS, per group (image × level).

    Args:
        student_cls (Tensor): (P, C) student class logits.
        teacher_cls (Tensor): (P, C) teacher class logits.
        student_boxes (Tensor): (P, 4|5) student decoded boxes (any consistent unit).
        teacher_boxes (Tensor): (P, 4|5) teacher decoded boxes, same layout.
        group_ids (Tensor): (P,) long, e.g. ``img_id * num_levels + level``; NMS and top-k run
            independently in each group.
        iou_threshold (float): NMS IoU (0.3).
        topk (int): boxes kept per group (10).
        nms_fn (callable): ``(boxes, scores, idxs, iou_threshold) -> keep`` sorted by score,
            e.g. ``torchvision.ops.batched_nms`` or ``rotated_ld.ops.batched_nms_rotated``.

    Returns:
        Tensor: (P,) bool mask of the selected locations.
    """
    P = student_cls.shape[0]
    mask = student_cls.new_zeros(P, dtype=torch.bool)
    if P == 0:
        return mask
    diff = teacher_cls.detach().float().sigmoid() - student_cls.detach().float().sigmoid()
    gi_score, cls_idx = diff.abs().max(1)
    teacher_higher = diff.gather(1, cls_idx[:, None])[:, 0] >= 0
    boxes = torch.where(teacher_higher[:, None], teacher_boxes.detach().float(),
                        student_boxes.detach().float())
    keep = nms_fn(boxes, gi_score, group_ids, iou_threshold)
    if keep.numel() == 0:
        return mask
    # rank of each kept box inside its group (keep is sorted by score descending)
    grp = group_ids[keep]
    order = torch.sort(grp, stable=True).indices
    sorted_grp = grp[order]
    first = torch.ones_like(sorted_grp, dtype=torch.bool)
    first[1:] = sorted_grp[1:] != sorted_grp[:-1]
    pos = torch.arange(len(order), device=grp.device)
    start = torch.cummax(torch.where(first, pos, torch.zeros_like(pos)), 0).values
    rank = torch.empty_like(pos)
    rank[order] = pos - start
    mask[keep[rank < topk]] = True
    return mask
