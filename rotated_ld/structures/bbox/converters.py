"""Box converters named ``src2dst`` (vectorised, differentiable, any leading shape).

Layouts: hbox ``(..., 4)`` = ``(x1, y1, x2, y2)``; cxcywh ``(..., 4)``; rbox ``(..., 5)`` =
``(cx, cy, w, h, t)`` radians (see :mod:`.rbox` for angle versions); poly ``(..., 8)`` =
``(x1, y1, ..., x4, y4)``.

Vertex order of :func:`rbox2poly` (as mmrotate's ``rbox2qbox``): with the width axis
``u = (cos t, sin t)`` and height axis ``v = (-sin t, cos t)``::

    p1 = c + w/2 u + h/2 v,   p2 = c + w/2 u - h/2 v,   p3 = c - w/2 u - h/2 v,   p4 = c - w/2 u + h/2 v

For ``t = 0`` that is bottom-right, top-right, top-left, bottom-left on screen (y down), i.e. the
vertices run **counter-clockwise on screen**; the shoelace sum ``sum(x_i y_{i+1} - x_{i+1} y_i)``
is ``-2 * w * h`` (negative).

Every function takes torch tensors (differentiable, any device) or numpy arrays and returns the
same kind; only :func:`poly2rbox` needs torch (it loads it when called).
"""
import math
from typing import Any, Optional

from .array_backend import array_module, as_float, stack_last, torch_function
from .rbox import _maybe_regularize, check_angle_version


def hbox_xyxy2cxcywh(hboxes: Any) -> Any:
    """``(..., 4)`` xyxy -> ``(..., 4)`` (cx, cy, w, h)."""
    hboxes = as_float(hboxes)
    x1, y1, x2, y2 = (hboxes[..., i] for i in range(4))
    return stack_last([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], hboxes)


def hbox_cxcywh2xyxy(hboxes: Any) -> Any:
    """``(..., 4)`` (cx, cy, w, h) -> ``(..., 4)`` xyxy."""
    hboxes = as_float(hboxes)
    cx, cy, w, h = (hboxes[..., i] for i in range(4))
    return stack_last([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], hboxes)


def hbox2rbox(hboxes: Any, angle_version: Optional[str] = None) -> Any:
    """``(..., 4)`` xyxy -> rbox ``(..., 5)`` with ``t = 0``.

    Args:
        angle_version: if given, the result is regularised to that version (``oc`` then gives
            ``t = -pi/2`` with w/h swapped; ``le90``/``le135`` swap w/h where ``h > w``).
            ``None`` (default, as mmrotate) returns ``(cx, cy, w, h, 0)`` unchanged.
    """
    hboxes = as_float(hboxes)
    x1, y1, x2, y2 = (hboxes[..., i] for i in range(4))
    xp = array_module(hboxes)
    rboxes = stack_last([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1, xp.zeros_like(x1)], hboxes)
    return _maybe_regularize(rboxes, angle_version)


def as_rboxes(boxes: Any) -> Any:
    """Priors / boxes as rboxes: ``(..., 4)`` xyxy -> ``(cx, cy, w, h, 0)``; ``(..., 5)`` unchanged.

    For code that takes horizontal anchors or rotated priors alike (rotated RetinaNet, rotated
    ATSS). Any other last dimension is a ``ValueError``.
    """
    if boxes.shape[-1] == 5:
        return boxes
    if boxes.shape[-1] != 4:
        raise ValueError(f'boxes must be (..., 4) xyxy or (..., 5) rboxes, got {tuple(boxes.shape)}')
    return hbox2rbox(boxes)


def rbox2hbox(rboxes: Any) -> Any:
    """rbox ``(..., 5)`` -> tightest enclosing hbox ``(..., 4)`` xyxy."""
    rboxes = as_float(rboxes)
    xp = array_module(rboxes)
    cx, cy, w, h, t = (rboxes[..., i] for i in range(5))
    c, s = xp.abs(xp.cos(t)), xp.abs(xp.sin(t))
    hw = (w * c + h * s) / 2
    hh = (w * s + h * c) / 2
    return stack_last([cx - hw, cy - hh, cx + hw, cy + hh], rboxes)


def rbox2poly(rboxes: Any) -> Any:
    """rbox ``(..., 5)`` -> poly ``(..., 8)`` (vertex order in the module docstring)."""
    rboxes = as_float(rboxes)
    xp = array_module(rboxes)
    cx, cy, w, h, t = (rboxes[..., i] for i in range(5))
    c, s = xp.cos(t), xp.sin(t)
    ux, uy = w / 2 * c, w / 2 * s  # half the width axis
    vx, vy = -h / 2 * s, h / 2 * c  # half the height axis
    return stack_last([cx + ux + vx, cy + uy + vy, cx + ux - vx, cy + uy - vy,
                       cx - ux - vx, cy - uy - vy, cx - ux + vx, cy - uy + vy], rboxes)


def poly2hbox(polys: Any) -> Any:
    """poly ``(..., 8)`` -> enclosing hbox ``(..., 4)`` xyxy."""
    polys = as_float(polys)
    xp = array_module(polys)
    xs, ys = polys[..., 0::2], polys[..., 1::2]
    return stack_last([xp.amin(xs, -1), xp.amin(ys, -1), xp.amax(xs, -1), xp.amax(ys, -1)], polys)


# the 6 point pairs of a quadrilateral: every edge of its convex hull is one of them
_PAIRS_I = (0, 0, 0, 1, 1, 2)
_PAIRS_J = (1, 2, 3, 2, 3, 3)


@torch_function
def poly2rbox(polys, angle_version: str = 'le90'):
    """poly ``(..., 8)`` -> minimum-area enclosing rbox ``(..., 5)`` in ``angle_version``.

    The minimum-area rectangle of a point set has one side on an edge of the convex hull
    (Freeman & Shapira 1975); for 4 points every hull edge joins one of the 6 point pairs, so we
    evaluate those 6 directions for all polygons at once and keep the smallest rectangle --
    exact, vectorised, no per-box ``cv2.minAreaRect`` loop. A rectangle input is reproduced
    exactly (its own orientation is the minimum).

    Ties: the result has the same (minimum) **area** as ``cv2.minAreaRect`` (up to cv2's float32
    rounding), but not necessarily the same rectangle. When two hull-edge directions give equal
    areas, or areas within float rounding of each other, this picks the first minimum in the pair
    order ``(0,1), (0,2), (0,3), (1,2), (1,3), (2,3)`` computed in the input dtype, while cv2 picks by
    its own edge order in float32; the two rectangles then differ (same area, other orientation and
    centre). On 984 real DOTA labels 33 polygons got a different rectangle of equal area, vertices
    up to 2.9 px apart. Degenerate inputs (collinear / coincident points) give w or h = 0.
    """
    import torch  # local: structures.bbox stays torch-free (torch_function has imported torch already)

    check_angle_version(angle_version)
    pts = polys.unflatten(-1, (4, 2))  # (..., 4, 2)
    d = pts[..., _PAIRS_J, :] - pts[..., _PAIRS_I, :]  # (..., 6, 2)
    norm = torch.linalg.vector_norm(d, dim=-1, keepdim=True)
    ok = norm > 0
    # a zero-length direction falls back to +x: still a valid enclosing rectangle
    u = torch.where(ok, d / torch.where(ok, norm, torch.ones_like(norm)), torch.zeros_like(d))
    u = torch.where(ok, u, torch.tensor([1.0, 0.0], dtype=d.dtype, device=d.device))
    v = torch.stack([-u[..., 1], u[..., 0]], dim=-1)
    pu = torch.einsum('...kc,...pc->...kp', u, pts)  # (..., 6, 4) projections
    pv = torch.einsum('...kc,...pc->...kp', v, pts)
    lo_u, hi_u = pu.amin(-1), pu.amax(-1)
    lo_v, hi_v = pv.amin(-1), pv.amax(-1)
    area = (hi_u - lo_u) * (hi_v - lo_v)  # (..., 6)
    k = area.argmin(dim=-1, keepdim=True)  # (..., 1)

    def pick(x):
        return x.gather(-1, k).squeeze(-1)

    ub = u.gather(-2, k.unsqueeze(-1).expand(k.shape + (2,))).squeeze(-2)  # (..., 2)
    mu = (pick(lo_u) + pick(hi_u)) / 2
    mv = (pick(lo_v) + pick(hi_v)) / 2
    cx = ub[..., 0] * mu - ub[..., 1] * mv
    cy = ub[..., 1] * mu + ub[..., 0] * mv
    w = pick(hi_u) - pick(lo_u)
    h = pick(hi_v) - pick(lo_v)
    t = torch.atan2(ub[..., 1], ub[..., 0])
    return _maybe_regularize(torch.stack([cx, cy, w, h, t], dim=-1), angle_version)


# mmrotate 1.x names (qbox = quadrilateral box = poly)
rbox2qbox = rbox2poly
qbox2rbox = poly2rbox
qbox2hbox = poly2hbox


def hbox2poly(hboxes: Any) -> Any:
    """``(..., 4)`` xyxy -> poly ``(..., 8)`` in the :func:`rbox2poly` vertex order."""
    return rbox2poly(hbox2rbox(hboxes))


def deg2rad(deg):
    """Degrees -> radians (for DOTA/detectron2 I/O only; boxes inside are radians)."""
    return deg * (math.pi / 180)


def rad2deg(rad):
    """Radians -> degrees (I/O only)."""
    return rad * (180 / math.pi)
