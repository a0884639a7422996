"""float32 replicas of mmdet / mmrotate box arithmetic, for weights imported from mmrotate.

A detector trained in mmrotate learned its regression against *mmrotate's* anchors and decodes
with *mmrotate's* rounding. Three places where that differs from this project's exact arithmetic
change the detections of an imported checkpoint (measured on a DOTA crop: 16 of 486 detections):

* **anchors** (:func:`mmdet_grid_anchors_xyxy`): mmdet's ``AnchorGenerator`` builds xyxy anchors in
  float32 (``x1 = shift + (−0.5·w)``, ``x2 = shift + 0.5·w``), and mmrotate derives
  ``w = x2 − x1``, ``h = y2 − y1`` from them. Because ``shift_x ≠ shift_y`` away from the diagonal,
  the two subtractions round differently: a "square" anchor can come out with ``w − h`` of a
  few float32 ulps (3.8e-6 … 6.1e-5 px at 640²), either sign;
* **regularisation** (:func:`mmrotate_regularize_boxes`): mmrotate 1.x's
  ``FakeRotatedAnchorGenerator(angle_version)`` passes the anchors through
  ``RotatedBoxes.regularize_boxes``; with ``le90`` / ``le135`` an anchor is turned to
  ``(h, w, ∓π/2)`` unless ``w > h`` **strictly** — so the float32 rounding above decides, per
  location, whether a square anchor is turned (about a fifth of them are not, e.g. 5,194 of
  25,575 at 640²). With ``oc`` every anchor is turned. The network learned deltas against exactly
  those anchors, so no per-anchor-type weight transform can reproduce them;
* **angle wrap** (:func:`mmrotate_norm_angle`): ``(t − start) % π + start`` without the correction
  this project applies when float32 rounding lands exactly on the end of the range.

These functions repeat mmdet's / mmrotate's float32 operations in the same order (elementwise
IEEE operations, so the results are bit-identical to theirs on any device); they are used only in
the compatibility modes (``RotatedAnchorGenerator(compat=...)``, ``DeltaXYWHAOBBoxCoder(compat=...)``).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

import numpy as np
import torch
from torch import Tensor

COMPAT_MODES = ('mmrotate0', 'mmrotate1')
_START = {'oc': -90, 'le90': -90, 'le135': -45}  # degrees, as RotatedBoxes.regularize_boxes


def check_compat(compat: Optional[str]) -> Optional[str]:
    """``None`` (this project's exact arithmetic) or one of :data:`COMPAT_MODES`."""
    if compat is not None and compat not in COMPAT_MODES:
        raise ValueError(f'compat={compat!r}; expected None (exact) or one of {COMPAT_MODES}')
    return compat


def mmdet_scales(octave_base_scale: Optional[float], scales_per_octave: Optional[int],
                 scales: Optional[Sequence[float]] = None) -> Tensor:
    """mmdet ``AnchorGenerator.scales``: float64 numpy products cast to a float32 tensor."""
    if scales is not None:
        return torch.tensor(list(scales), dtype=torch.float32)
    octave = np.array([2 ** (i / scales_per_octave) for i in range(scales_per_octave)])
    return torch.tensor(octave * octave_base_scale, dtype=torch.float32)


def mmdet_base_anchors(base_size: int, scales: Tensor, ratios: Sequence[float],
                       center_offset: float = 0.0) -> Tensor:
    """``(A, 4)`` float32 xyxy base anchors of one level, scale-major (mmdet
    ``gen_single_level_base_anchors``, ``scale_major=True``: ratio-major rows of scales)."""
    ratios_t = torch.tensor(list(ratios), dtype=torch.float32)
    x_center = center_offset * base_size
    y_center = center_offset * base_size
    h_ratios = torch.sqrt(ratios_t)
    w_ratios = 1 / h_ratios
    ws = (base_size * w_ratios[:, None] * scales[None, :]).view(-1)
    hs = (base_size * h_ratios[:, None] * scales[None, :]).view(-1)
    return torch.stack([x_center - 0.5 * ws, y_center - 0.5 * hs, x_center + 0.5 * ws, y_center + 0.5 * hs], -1)


def mmdet_grid_anchors_xyxy(base_anchors: Tensor, featmap_size: Sequence[int], stride: int,
                            dtype=torch.float32, device='cpu') -> Tensor:
    """``(H·W·A, 4)`` xyxy anchors of one level: ``base + shift`` (mmdet ``single_level_grid_priors``)."""
    base = base_anchors.to(device).to(dtype)
    feat_h, feat_w = int(featmap_size[0]), int(featmap_size[1])
    shift_x = torch.arange(0, feat_w, device=device).to(dtype) * stride
    shift_y = torch.arange(0, feat_h, device=device).to(dtype) * stride
    xx = shift_x.repeat(shift_y.shape[0])
    yy = shift_y.view(-1, 1).repeat(1, shift_x.shape[0]).view(-1)
    shifts = torch.stack([xx, yy, xx, yy], dim=-1)
    return (base[None, :, :] + shifts[:, None, :]).view(-1, 4)


def mmrotate_hbox2rbox(boxes: Tensor) -> Tensor:
    """xyxy ``(..., 4)`` → ``(cx, cy, w, h, 0)`` as mmrotate (0.x anchor generator, 1.x ``hbox2rbox``)."""
    wh = boxes[..., 2:] - boxes[..., :2]
    ctrs = (boxes[..., 2:] + boxes[..., :2]) / 2
    return torch.cat([ctrs, wh, boxes.new_zeros((*boxes.shape[:-1], 1))], dim=-1)


def mmrotate_regularize_boxes(boxes: Tensor, pattern: str) -> Tensor:
    """mmrotate 1.x ``RotatedBoxes.regularize_boxes(pattern)`` on ``(..., 5)`` rboxes (radians).

    ``le90`` / ``le135``: keep ``(w, h, t)`` only where ``w > h`` (a square is turned), then
    ``t = (t − start) % π + start``. ``oc``: ``t = (t − start) % π``; keep where ``t < π/2``, else
    swap w/h and subtract π/2; add ``start``. ``start`` = −π/2 (oc, le90) or −π/4 (le135).
    """
    if pattern not in _START:
        raise ValueError(f'pattern={pattern!r}; expected one of {tuple(_START)}')
    start = _START[pattern] / 180 * np.pi
    x, y, w, h, t = boxes.unbind(dim=-1)
    if pattern in ('le90', 'le135'):
        w_ = torch.where(w > h, w, h)
        h_ = torch.where(w > h, h, w)
        t = torch.where(w > h, t, t + np.pi / 2)
        t = ((t - start) % np.pi) + start
    else:
        t = ((t - start) % np.pi)
        w_ = torch.where(t < np.pi / 2, w, h)
        h_ = torch.where(t < np.pi / 2, h, w)
        t = torch.where(t < np.pi / 2, t, t - np.pi / 2) + start
    return torch.stack([x, y, w_, h_, t], dim=-1)


def mmrotate_norm_angle(angle: Tensor, angle_version: str) -> Tensor:
    """mmrotate ``norm_angle``: ``oc`` unchanged, ``le135`` ``(t + π/4) % π − π/4``,
    ``le90`` ``(t + π/2) % π − π/2`` (no correction of a result rounded onto the range end)."""
    if angle_version == 'oc':
        return angle
    if angle_version == 'le135':
        return (angle + np.pi / 4) % np.pi - np.pi / 4
    if angle_version == 'le90':
        return (angle + np.pi / 2) % np.pi - np.pi / 2
    raise ValueError(f'angle_version={angle_version!r}; expected oc, le90 or le135')


__all__ = ['COMPAT_MODES', 'check_compat', 'mmdet_scales', 'mmdet_base_anchors', 'mmdet_grid_anchors_xyxy',
           'mmrotate_hbox2rbox', 'mmrotate_regularize_boxes', 'mmrotate_norm_angle']
