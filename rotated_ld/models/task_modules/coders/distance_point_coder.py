"""Distance ↔ box coding around points (GFL/FCOS): ``(l, t, r, b)`` distances ↔ xyxy boxes."""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor

from rotated_ld.registry import TASK_UTILS


def distance2bbox(points: Tensor, distance: Tensor, max_shape: Optional[Sequence[int]] = None) -> Tensor:
    """``(x − l, y − t, x + r, y + b)``; optionally clipped to ``max_shape`` = (h, w).

    Args:
        points: (..., 2) xy. distance: (..., 4) l, t, r, b (same unit as points).
    """
    x1 = points[..., 0] - distance[..., 0]
    y1 = points[..., 1] - distance[..., 1]
    x2 = points[..., 0] + distance[..., 2]
    y2 = points[..., 1] + distance[..., 3]
    boxes = torch.stack([x1, y1, x2, y2], -1)
    if max_shape is not None:
        h, w = max_shape[0], max_shape[1]
        boxes = torch.stack([boxes[..., 0].clamp(0, w), boxes[..., 1].clamp(0, h),
                             boxes[..., 2].clamp(0, w), boxes[..., 3].clamp(0, h)], -1)
    return boxes


def bbox2distance(points: Tensor, bbox: Tensor, max_dis: Optional[float] = None, eps: float = 0.1) -> Tensor:
    """Distances from points to box edges ``(l, t, r, b)``, clamped to ``[0, max_dis − eps]``."""
    d = torch.stack([points[..., 0] - bbox[..., 0], points[..., 1] - bbox[..., 1],
                     bbox[..., 2] - points[..., 0], bbox[..., 3] - points[..., 1]], -1)
    if max_dis is not None:
        d = d.clamp(min=0, max=max_dis - eps)
    return d


@TASK_UTILS.register_module()
class DistancePointBBoxCoder:
    """``encode(points, gt, max_dis, eps)`` → distances; ``decode(points, dist, max_shape)`` → boxes.

    Args:
        clip_border: clip decoded boxes to the image in ``decode`` when ``max_shape`` is given.
    """

    encode_size = 4

    def __init__(self, clip_border: bool = True):
        self.clip_border = clip_border

    def encode(self, points: Tensor, gt_bboxes: Tensor, max_dis: Optional[float] = None,
               eps: float = 0.1) -> Tensor:
        return bbox2distance(points, gt_bboxes, max_dis, eps)

    def decode(self, points: Tensor, pred_bboxes: Tensor, max_shape: Optional[Sequence[int]] = None) -> Tensor:
        return distance2bbox(points, pred_bboxes, max_shape if self.clip_border else None)
