"""Distance-angle point coder: a rotated box as 4 edge distances in its own frame + its angle.

A point ``p`` (a prior centre) and a rotated box ``(cx, cy, w, h, θ)`` give the point's
position in the box frame ``q = R(−θ)·(p − c)`` and the distances from the point to the four
edges of the box, measured along the box's own axes (edge order **l, t, r, b** as GFL):

    l = w/2 + q_x,   t = h/2 + q_y,   r = w/2 − q_x,   b = h/2 − q_y.

Decoding inverts it: ``w = l + r``, ``h = t + b``, ``c = p + R(θ)·((r − l)/2, (b − t)/2)``.
The coder is unit-agnostic; the head calls it in stride units (points and boxes divided by the
level stride) so that distances fit the ``reg_max`` bins. Angles are passed through unchanged
(the angle coder bins them); ``θ = 0`` reduces to the horizontal distance-point coder.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from rotated_ld.registry import TASK_UTILS


@TASK_UTILS.register_module()
class DistanceAnglePointCoder:
    """Encode rotated boxes as ``(l, t, r, b, θ)`` relative to points, and decode back.

    Args:
        clip_border (bool): clamp decoded centres into the image in :meth:`decode` when
            ``max_shape`` is given. Default True.

    Example:
        >>> coder = DistanceAnglePointCoder()
        >>> pts = torch.tensor([[10., 10.]]); box = torch.tensor([[12., 10., 8., 4., 0.]])
        >>> coder.encode(pts, box)
        tensor([[2., 2., 6., 2., 0.]])
    """

    encode_size = 5

    def __init__(self, clip_border: bool = True) -> None:
        self.clip_border = clip_border

    def encode(self, points: Tensor, gt_bboxes: Tensor, max_dis: Optional[float] = None,
               eps: float = 0.1) -> Tensor:
        """Boxes → edge distances + angle.

        Args:
            points (Tensor): (N, 2) point coordinates (x, y).
            gt_bboxes (Tensor): (N, 5) rotated boxes (cx, cy, w, h, θ), θ radians, same units.
            max_dis (float, optional): clamp distances to ``[0, max_dis − eps]`` (DFL target).

        Returns:
            Tensor: (N, 5) ``(l, t, r, b, θ)``.
        """
        ctr, wh, theta = gt_bboxes[:, :2], gt_bboxes[:, 2:4], gt_bboxes[:, 4]
        cos, sin = theta.cos(), theta.sin()
        d = points - ctr
        qx = cos * d[:, 0] + sin * d[:, 1]  # R(−θ)·d
        qy = -sin * d[:, 0] + cos * d[:, 1]
        w, h = wh[:, 0], wh[:, 1]
        dist = torch.stack([w / 2 + qx, h / 2 + qy, w / 2 - qx, h / 2 - qy], dim=-1)
        if max_dis is not None:
            dist = dist.clamp(min=0, max=max_dis - eps)
        return torch.cat([dist, theta[:, None]], dim=-1)

    def decode(self, points: Tensor, pred: Tensor, max_shape: Optional[tuple] = None) -> Tensor:
        """Edge distances + angle → rotated boxes.

        Args:
            points (Tensor): (..., 2) points.
            pred (Tensor): (..., 5) ``(l, t, r, b, θ)``; or (..., 4) distances and then
                ``θ`` must be the last column of ``pred`` — use :meth:`decode_with_angle`.
            max_shape (tuple, optional): (h, w) to clip centres into.

        Returns:
            Tensor: (..., 5) rotated boxes ``(cx, cy, w, h, θ)`` (not regularised: ``w`` is
            the extent along θ, which may be shorter than ``h``).
        """
        return self.decode_with_angle(points, pred[..., :4], pred[..., 4], max_shape)

    def decode_with_angle(self, points: Tensor, distance: Tensor, angle: Tensor,
                          max_shape: Optional[tuple] = None) -> Tensor:
        """As :meth:`decode` with distances (..., 4) and angles (...) given separately."""
        l, t, r, b = distance.unbind(-1)
        cos, sin = angle.cos(), angle.sin()
        ox, oy = (r - l) / 2, (b - t) / 2
        cx = points[..., 0] + cos * ox - sin * oy  # R(θ)·o
        cy = points[..., 1] + sin * ox + cos * oy
        if max_shape is not None and self.clip_border:
            cx = cx.clamp(0, max_shape[1])
            cy = cy.clamp(0, max_shape[0])
        return torch.stack([cx, cy, l + r, t + b, angle], dim=-1)
