"""Angle versions of rotated boxes and their normalisation.

A rotated box ("rbox") is a tensor ``(..., 5)`` = ``(cx, cy, w, h, t)`` with ``t`` in **radians**.
Image coordinates: x to the right, y down. ``t`` rotates the box's width axis from +x toward +y
(clockwise on screen), as in mmrotate 1.x: the width axis is ``u = (cos t, sin t)`` and the
height axis ``v = (-sin t, cos t)``.

Angle versions (the same geometric box has exactly one representation in each version, except
squares in ``le90``/``le135`` whose two representations differ by pi/2 and are both accepted):

============  =========================  ===========================================================
version       range of ``t``             width / height
============  =========================  ===========================================================
``oc``        ``[-pi/2, 0)``             as OpenCV: w is the side whose axis lies in ``[-pi/2, 0)``
``le90``      ``[-pi/2, pi/2)``          long edge: ``w >= h``  (default everywhere)
``le135``     ``[-pi/4, 3*pi/4)``        long edge: ``w >= h``
============  =========================  ===========================================================

Differences from mmrotate's ``regularize_boxes`` (both deliberate, documented here once):

* a square (``w == h``) keeps its angle in ``le90``/``le135`` (mmrotate swaps on ``w <= h``,
  which makes regularisation not idempotent for squares: it adds pi/2 every call);
* results that round to the open end of a range (e.g. ``t = -1e-20`` in ``le90`` ->
  ``pi/2``) are wrapped back to the start, so the half-open ranges above hold exactly.
"""
import math
from functools import wraps
from typing import Callable, Optional, Tuple

import numpy as np
import torch
from torch import Tensor

ANGLE_VERSIONS = ('oc', 'le90', 'le135')

#: ``version -> (start, end)`` of the half-open range of ``t`` in radians.
ANGLE_RANGES = {
    'oc': (-math.pi / 2, 0.0),
    'le90': (-math.pi / 2, math.pi / 2),
    'le135': (-math.pi / 4, 3 * math.pi / 4),
}


def check_angle_version(angle_version: str) -> str:
    """Return ``angle_version`` or raise a ``ValueError`` naming the valid versions."""
    if angle_version not in ANGLE_VERSIONS:
        raise ValueError(f'angle_version={angle_version!r}; expected one of {ANGLE_VERSIONS}')
    return angle_version


def angle_period(angle_version: str) -> float:
    """Period of the bare angle of a version: pi for ``le90``/``le135``, pi/2 for ``oc``.

    In ``oc`` a turn by pi/2 is absorbed by swapping w and h, so one period of the *angle*
    is pi/2; the long-edge versions keep w >= h and a box is symmetric under a turn by pi.
    """
    start, end = ANGLE_RANGES[check_angle_version(angle_version)]
    return end - start


def as_tensor_io(fn: Callable) -> Callable:
    """Let a tensor function also take a numpy array as first argument (returns numpy then).

    Integer inputs are converted to the default float dtype (box coordinates are real).
    """

    @wraps(fn)
    def wrapper(x, *args, **kwargs):
        is_np = isinstance(x, np.ndarray)
        t = torch.from_numpy(np.ascontiguousarray(x)) if is_np else x
        if not torch.is_floating_point(t):
            t = t.to(torch.get_default_dtype())
        out = fn(t, *args, **kwargs)
        if is_np:
            return tuple(o.numpy() for o in out) if isinstance(out, tuple) else out.numpy()
        return out

    return wrapper


def _wrap(t: Tensor, start: float, period: float) -> Tensor:
    """``t`` wrapped into ``[start, start + period)`` (guards the rounding to the open end)."""
    r = torch.remainder(t - start, period)
    r = torch.where(r >= period, r - period, r)
    return r + start


@as_tensor_io
def norm_angle(t: Tensor, angle_version: str = 'le90') -> Tensor:
    """Wrap bare angles (radians, any shape) into the range of ``angle_version``.

    ``le90``: ``[-pi/2, pi/2)`` (period pi); ``le135``: ``[-pi/4, 3pi/4)`` (period pi);
    ``oc``: ``[-pi/2, 0)`` (period pi/2 -- only meaningful together with a w/h swap; use
    :func:`regularize_rboxes` for whole boxes).
    """
    start, _ = ANGLE_RANGES[check_angle_version(angle_version)]
    return _wrap(t, start, angle_period(angle_version))


@as_tensor_io
def regularize_rboxes(rboxes: Tensor, angle_version: str = 'le90') -> Tensor:
    """Bring rboxes ``(..., 5)`` to the unique representation of ``angle_version``.

    The geometric rectangle is unchanged; ``t`` is wrapped into the version's range and w/h are
    swapped where needed (see the module docstring). Differentiable; returns a new tensor.
    """
    start, _ = ANGLE_RANGES[check_angle_version(angle_version)]
    x, y, w, h, t = rboxes.unbind(dim=-1)
    if angle_version == 'oc':
        r = _wrap(t - start, 0.0, math.pi)  # t - start in [0, pi)
        first = r < math.pi / 2
        w_, h_ = torch.where(first, w, h), torch.where(first, h, w)
        t_ = torch.where(first, r, r - math.pi / 2) + start
    else:
        keep = w >= h
        w_, h_ = torch.where(keep, w, h), torch.where(keep, h, w)
        t_ = _wrap(torch.where(keep, t, t + math.pi / 2), start, math.pi)
    return torch.stack([x, y, w_, h_, t_], dim=-1)


def convert_rbox_version(rboxes: Tensor, src: str, dst: str) -> Tensor:
    """Re-express rboxes ``(..., 5)`` given in version ``src`` in version ``dst``.

    The rbox layout does not depend on the version (only the canonical range does), so this is
    :func:`regularize_rboxes` to ``dst`` after validating ``src``.
    """
    check_angle_version(src)
    return regularize_rboxes(rboxes, dst)


def rbox_in_range(rboxes: Tensor, angle_version: str, atol: float = 0.0) -> Tensor:
    """Boolean ``(...)``: does each rbox satisfy the range / w>=h rule of ``angle_version``?"""
    start, end = ANGLE_RANGES[check_angle_version(angle_version)]
    t = rboxes[..., 4]
    ok = (t >= start - atol) & (t < end + atol)
    if angle_version != 'oc':
        ok = ok & (rboxes[..., 2] >= rboxes[..., 3] - atol)
    return ok


def rbox_area(rboxes: Tensor) -> Tensor:
    """Area ``(...)`` of rboxes ``(..., 5)``."""
    return rboxes[..., 2] * rboxes[..., 3]


def angle_range(angle_version: str) -> Tuple[float, float]:
    """``(start, end)`` of the half-open angle range of ``angle_version`` (radians)."""
    return ANGLE_RANGES[check_angle_version(angle_version)]


def _maybe_regularize(rboxes: Tensor, angle_version: Optional[str]) -> Tensor:
    return rboxes if angle_version is None else regularize_rboxes(rboxes, angle_version)
