"""FCOS point assignment (Tian et al. 2019) with centre sampling, one image per call.

The rule of mmdet 2.x ``FCOSHead._get_target_single`` (the LD repository's ``fcos_gfl_head.py``):
a point ``p`` of level ``ℓ`` (stride ``s_ℓ``) is a candidate of GT ``g`` when

1. ``p`` lies strictly inside ``g`` — with ``center_sampling``, strictly inside ``g`` ∩ the square
   of half-side ``center_sample_radius · s_ℓ`` around ``g``'s centre;
2. the largest of its four distances to ``g``'s edges is in ``regress_ranges[ℓ]`` (both ends
   inclusive).

Among its candidates a point takes the GT of smallest area (ties: the lowest GT index);
points with no candidate are background.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor
from torchvision.ops import box_iou

from rotated_ld.registry import TASK_UTILS

from .atss_assigner import AssignResult

INF = 1e8
FCOS_REGRESS_RANGES = ((-1, 64), (64, 128), (128, 256), (256, 512), (512, INF))


def fcos_candidates(points: Tensor, point_strides: Tensor, ranges: Tensor, gt_bboxes: Tensor,
                    center_sampling: bool = True, radius: float = 1.5) -> Tensor:
    """(A, G) bool: conditions 1 and 2 of the module docstring.

    Args:
        points (Tensor): (A, 2) ``x, y`` pixels. point_strides (Tensor): (A,) stride of each point.
        ranges (Tensor): (A, 2) regression range ``[lo, hi]`` of each point's level.
        gt_bboxes (Tensor): (G, 4) xyxy pixels.
    """
    x, y = points[:, 0:1], points[:, 1:2]
    g = gt_bboxes[None]
    dist = torch.stack([x - g[..., 0], y - g[..., 1], g[..., 2] - x, g[..., 3] - y], -1)  # (A, G, 4)
    if center_sampling:
        cx, cy = (g[..., 0] + g[..., 2]) / 2, (g[..., 1] + g[..., 3]) / 2
        r = point_strides[:, None] * radius
        box = torch.stack([torch.maximum(cx - r, g[..., 0]), torch.maximum(cy - r, g[..., 1]),
                           torch.minimum(cx + r, g[..., 2]), torch.minimum(cy + r, g[..., 3])], -1)
        inside = torch.stack([x - box[..., 0], y - box[..., 1], box[..., 2] - x, box[..., 3] - y],
                             -1).min(-1).values > 0
    else:
        inside = dist.min(-1).values > 0
    far = dist.max(-1).values
    in_range = (far >= ranges[:, None, 0]) & (far <= ranges[:, None, 1])
    return inside & in_range


@TASK_UTILS.register_module()
class FCOSAssigner:
    """FCOS assignment of points (see module docstring).

    Args:
        strides (Sequence[int]): stride of each level (8, 16, 32, 64, 128).
        regress_ranges (Sequence[tuple]): ``(lo, hi)`` pixels per level (FCOS defaults).
        center_sampling (bool): condition 1 uses the centre region (True, the LD configs).
        center_sample_radius (float): half-side of the centre region in strides (1.5).

    ``assign(prior_boxes (A, 4) xyxy, num_level_priors, gt_bboxes (G, 4), gt_labels (G,),
    gt_bboxes_ignore=None) -> AssignResult``: the points are the prior boxes' centres (the head's
    grid points, ``prior_offset=0.5`` for FCOS); ``max_overlaps`` / ``overlaps`` are the prior-box
    IoUs (used only by imitation masks); ``thresholds`` is empty (no ATSS threshold: a VLR on
    these priors computes its own). Ignored boxes play no part (as mmdet's FCOS).
    """

    def __init__(self, strides: Sequence[int] = (8, 16, 32, 64, 128),
                 regress_ranges: Sequence[Sequence[float]] = FCOS_REGRESS_RANGES,
                 center_sampling: bool = True, center_sample_radius: float = 1.5) -> None:
        if len(strides) != len(regress_ranges):
            raise ValueError(f'FCOSAssigner: {len(strides)} strides but {len(regress_ranges)} regress_ranges')
        self.strides = [float(s[0] if isinstance(s, (tuple, list)) else s) for s in strides]
        self.regress_ranges = [tuple(float(v) for v in r) for r in regress_ranges]
        self.center_sampling, self.center_sample_radius = center_sampling, float(center_sample_radius)

    def assign(self, prior_boxes: Tensor, num_level_priors: Sequence[int], gt_bboxes: Tensor,
               gt_labels: Tensor, gt_bboxes_ignore: Optional[Tensor] = None) -> AssignResult:
        if len(num_level_priors) != len(self.strides):
            raise ValueError(f'FCOSAssigner has {len(self.strides)} levels (strides {self.strides}); '
                             f'the head gave {len(num_level_priors)}')
        prior_boxes = prior_boxes.float()
        num_priors, num_gts = prior_boxes.size(0), gt_bboxes.size(0)
        device = prior_boxes.device
        gt_inds = torch.full((num_priors,), -1, dtype=torch.long, device=device)
        labels = torch.full((num_priors,), -1, dtype=torch.long, device=device)
        max_overlaps = prior_boxes.new_zeros((num_priors,))
        empty_thr = prior_boxes.new_zeros((0,))
        if num_gts == 0 or num_priors == 0:
            return AssignResult(gt_inds, max_overlaps, labels, empty_thr,
                                prior_boxes.new_zeros((num_priors, num_gts)))
        gts = gt_bboxes.float()
        counts = torch.as_tensor(list(num_level_priors), device=device)
        strides = torch.repeat_interleave(torch.tensor(self.strides, device=device), counts)
        ranges = torch.repeat_interleave(torch.tensor(self.regress_ranges, device=device), counts, dim=0)
        points = (prior_boxes[:, :2] + prior_boxes[:, 2:]) / 2
        cand = fcos_candidates(points, strides, ranges, gts, self.center_sampling, self.center_sample_radius)
        area = (gts[:, 2] - gts[:, 0]) * (gts[:, 3] - gts[:, 1])
        masked = torch.where(cand, area[None].expand(num_priors, -1), area.new_full((), INF))
        best = masked.min(dim=1).values
        arg = (masked == best[:, None]).to(torch.uint8).argmax(dim=1)  # argmax: first maximum = lowest GT index
        pos = best < INF
        overlaps = box_iou(prior_boxes, gts)
        gt_inds[pos] = arg[pos]
        labels[pos] = gt_labels.to(device)[arg[pos]].long()
        max_overlaps[pos] = overlaps[pos, arg[pos]]
        return AssignResult(gt_inds, max_overlaps, labels, empty_thr, overlaps)
