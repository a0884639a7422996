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
from typing import Any, Optional, Tuple

from .array_backend import array_module, as_float, stack_last

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


def angle_range(angle_version: str) -> Tuple[float, float]:
    """``(start, end)`` of the half-open angle range of ``angle_version`` (radians)."""
    return ANGLE_RANGES[check_angle_version(angle_version)]


def wrap_angle(t: Any, start: float, period: float) -> Any:
    """Angles ``t`` (any shape, radians; tensor or array) wrapped into ``[start, start + period)``.

    The one angle wrap of the package. ``remainder`` of a tiny negative number can round up to
    exactly ``period`` (e.g. ``-1e-20 mod pi == pi`` in float64); that case is folded back to
    ``start`` so the half-open range holds exactly.
    """
    xp = array_module(t)
    r = xp.remainder(t - start, period)
    r = xp.where(r >= period, r - period, r)
    return r + start


def norm_angle(t: Any, angle_version: str = 'le90') -> Any:
    """Wrap bare angles (radians, any shape) into the range of ``angle_version``.

    ``le90``: ``[-pi/2, pi/2)`` (period pi); ``le135``: ``[-pi/4, 3pi/4)`` (period pi);
    ``oc``: ``[-pi/2, 0)`` (period pi/2 -- only meaningful together with a w/h swap; use
    :func:`regularize_rboxes` for whole boxes). Differences of angles of ``w >= h`` boxes are
    wrapped with ``norm_angle(d, 'le90')`` (nearest turn, in ``[-pi/2, pi/2)``).
    """
    start, _ = ANGLE_RANGES[check_angle_version(angle_version)]
    return wrap_angle(as_float(t), start, angle_period(angle_version))


def regularize_rboxes(rboxes: Any, angle_version: str = 'le90') -> Any:
    """Bring rboxes ``(..., 5)`` to the unique representation of ``angle_version``.

    The geometric rectangle is unchanged; ``t`` is wrapped into the version's range and w/h are
    swapped where needed (see the module docstring). Differentiable for tensors; returns a new
    tensor / array of the input's kind.
    """
    start, _ = ANGLE_RANGES[check_angle_version(angle_version)]
    rboxes = as_float(rboxes)
    xp = array_module(rboxes)
    x, y, w, h, t = (rboxes[..., i] for i in range(5))
    if angle_version == 'oc':
        r = wrap_angle(t - start, 0.0, math.pi)  # t - start in [0, pi)
        first = r < math.pi / 2
        w_, h_ = xp.where(first, w, h), xp.where(first, h, w)
        t_ = xp.where(first, r, r - math.pi / 2) + start
    else:
        keep = w >= h
        w_, h_ = xp.where(keep, w, h), xp.where(keep, h, w)
        t_ = wrap_angle(xp.where(keep, t, t + math.pi / 2), start, math.pi)
    return stack_last([x, y, w_, h_, t_], rboxes)


def convert_rbox_version(rboxes: Any, src: str, dst: str) -> Any:
    """Re-express rboxes ``(..., 5)`` given in version ``src`` in version ``dst``.

    The rbox layout does not depend on the version (only the canonical range does), so this is
    :func:`regularize_rboxes` to ``dst`` after validating ``src``.
    """
    check_angle_version(src)
    return regularize_rboxes(rboxes, dst)


def rbox_in_range(rboxes: Any, angle_version: str, atol: float = 0.0) -> Any:
    """Boolean ``(...)``: does each rbox satisfy the range / w>=h rule of ``angle_version``?"""
    start, end = ANGLE_RANGES[check_angle_version(angle_version)]
    t = rboxes[..., 4]
    ok = (t >= start - atol) & (t < end + atol)
    if angle_version != 'oc':
        ok = ok & (rboxes[..., 2] >= rboxes[..., 3] - atol)
    return ok


def rbox_area(rboxes: Any) -> Any:
    """Area ``(...)`` of rboxes ``(..., 5)``."""
    return rboxes[..., 2] * rboxes[..., 3]


def _maybe_regularize(rboxes: Any, angle_version: Optional[str]) -> Any:
    return rboxes if angle_version is None else regularize_rboxes(rboxes, angle_version)
