"""Geometric transforms of rotated boxes that follow image flips / rotations / resizes.

All take rboxes ``(..., 5)`` = ``(cx, cy, w, h, t)`` radians (tensor or numpy array; the result is
of the same kind). Flips and rotations return a regularised result (``angle_version=None`` skips
the regularisation).
"""
import math
from typing import Any, Optional, Sequence

from .array_backend import array_module, as_float, stack_last
from .rbox import _maybe_regularize

FLIP_DIRECTIONS = ('horizontal', 'vertical', 'diagonal')


def flip_rboxes(rboxes: Any, img_shape: Sequence[int], direction: str = 'horizontal',
                angle_version: Optional[str] = 'le90') -> Any:
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
    rboxes = as_float(rboxes)
    h, w = float(img_shape[0]), float(img_shape[1])
    cx, cy, bw, bh, t = (rboxes[..., i] for i in range(5))
    if direction in ('horizontal', 'diagonal'):
        cx = w - cx
    if direction in ('vertical', 'diagonal'):
        cy = h - cy
    if direction != 'diagonal':
        t = -t
    return _maybe_regularize(stack_last([cx, cy, bw, bh, t], rboxes), angle_version)


def rotate_rboxes(rboxes: Any, angle_rad: float, center: Sequence[float],
                  angle_version: Optional[str] = 'le90') -> Any:
    """Rotate rboxes by ``angle_rad`` about ``center = (x, y)``.

    The rotation has the sense of ``t``: from +x toward +y (clockwise on screen), so centres move
    by ``R = [[cos, -sin], [sin, cos]]`` and ``t -> t + angle_rad``. To follow an image warped by
    ``cv2.getRotationMatrix2D(center, deg, 1)`` (counter-clockwise on screen for ``deg > 0``) pass
    ``angle_rad = -deg * pi / 180``.
    """
    rboxes = as_float(rboxes)
    a = float(angle_rad)
    c, s = math.cos(a), math.sin(a)
    ox, oy = float(center[0]), float(center[1])
    cx, cy, bw, bh, t = (rboxes[..., i] for i in range(5))
    dx, dy = cx - ox, cy - oy
    out = stack_last([ox + c * dx - s * dy, oy + s * dx + c * dy, bw, bh, t + a], rboxes)
    return _maybe_regularize(out, angle_version)


def rescale_rboxes(rboxes: Any, scale_x: float, scale_y: float) -> Any:
    """Undo an image resize ``(x, y) -> (x·sx, y·sy)`` on rboxes ``(..., 5)``: divide by the scales.

    A uniform scale (``sx == sy``) divides ``cx, cy, w, h`` and keeps ``t`` -- exact. A non-uniform
    scale maps the rectangle to a parallelogram, which no rbox describes exactly; the result keeps
    the **width axis** exact: the centre and the two ends ``c ± w/2·u`` of the width axis are
    mapped through the inverse scale, ``t`` follows the mapped width axis and ``h`` is the length
    of the mapped height axis. Axis-aligned boxes (``t`` a multiple of pi/2) are mapped exactly
    (then ``w`` follows ``1/sy`` when the width axis is vertical). mmrotate's
    ``RotatedBoxes.rescale_`` (after detectron2) has the same ``w``/``h`` but keeps the height
    axis' direction instead. The result is not regularised (``t`` in ``(-pi, pi]`` for a
    non-uniform scale).
    """
    rboxes = as_float(rboxes)
    xp = array_module(rboxes)
    cx, cy, w, h, t = (rboxes[..., i] for i in range(5))
    ix, iy = 1.0 / float(scale_x), 1.0 / float(scale_y)
    if abs(float(scale_x) - float(scale_y)) < 1e-12:
        return stack_last([cx / scale_x, cy / scale_x, w / scale_x, h / scale_x, t], rboxes)
    c, s = xp.cos(t), xp.sin(t)
    new_w = w * xp.sqrt((c * ix) ** 2 + (s * iy) ** 2)
    new_h = h * xp.sqrt((s * ix) ** 2 + (c * iy) ** 2)
    new_t = xp.arctan2(s * iy, c * ix)
    return stack_last([cx * ix, cy * iy, new_w, new_h, new_t], rboxes)
