"""Geometric transforms of rotated boxes that follow image flips / rotations.

All take rboxes ``(..., 5)`` = ``(cx, cy, w, h, t)`` radians and return a new, regularised tensor
(``angle_version=None`` skips the regularisation). Numpy arrays are accepted and returned.
"""
import math
from typing import Optional, Sequence

import torch
from torch import Tensor

from .rbox import _maybe_regularize, as_tensor_io

FLIP_DIRECTIONS = ('horizontal', 'vertical', 'diagonal')


@as_tensor_io
def flip_rboxes(rboxes: Tensor, img_shape: Sequence[int], direction: str = 'horizontal',
                angle_version: Optional[str] = 'le90') -> Tensor:
    """Flip rboxes with the image (as mmdet 3 / mmrotate 1.x: ``x -> W - x``).

    Args:
        rboxes: ``(..., 5)``.
        img_shape: ``(h, w)`` of the image being flipped.
        direction: ``'horizontal'`` (``cx -> W - cx``, ``t -> -t``), ``'vertical'``
            (``cy -> H - cy``, ``t -> -t``) or ``'diagonal'`` (both; ``t`` unchanged: a turn by pi).
        angle_version: version of the result (``None``: leave ``t`` unwrapped).
    """
    if direction not in FLIP_DIRECTIONS:
        raise ValueError(f'direction={direction!r}; expected one of {FLIP_DIRECTIONS}')
    h, w = float(img_shape[0]), float(img_shape[1])
    cx, cy, bw, bh, t = rboxes.unbind(-1)
    if direction in ('horizontal', 'diagonal'):
        cx = w - cx
    if direction in ('vertical', 'diagonal'):
        cy = h - cy
    if direction != 'diagonal':
        t = -t
    return _maybe_regularize(torch.stack([cx, cy, bw, bh, t], dim=-1), angle_version)


@as_tensor_io
def rotate_rboxes(rboxes: Tensor, angle_rad: float, center: Sequence[float],
                  angle_version: Optional[str] = 'le90') -> Tensor:
    """Rotate rboxes by ``angle_rad`` about ``center = (x, y)``.

    The rotation has the sense of ``t``: from +x toward +y (clockwise on screen), so centres move
    by ``R = [[cos, -sin], [sin, cos]]`` and ``t -> t + angle_rad``. To follow an image warped by
    ``cv2.getRotationMatrix2D(center, deg, 1)`` (counter-clockwise on screen for ``deg > 0``) pass
    ``angle_rad = -deg * pi / 180``.
    """
    a = float(angle_rad)
    c, s = math.cos(a), math.sin(a)
    ox, oy = float(center[0]), float(center[1])
    cx, cy, bw, bh, t = rboxes.unbind(-1)
    dx, dy = cx - ox, cy - oy
    out = torch.stack([ox + c * dx - s * dy, oy + s * dx + c * dy, bw, bh, t + a], dim=-1)
    return _maybe_regularize(out, angle_version)
