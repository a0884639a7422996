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

Every function takes torch tensors; numpy arrays are accepted too and give numpy back.
"""
import math
from typing import Optional

import torch
from torch import Tensor

from .rbox import _maybe_regularize, as_tensor_io, check_angle_version


@as_tensor_io
def hbox_xyxy2cxcywh(hboxes: Tensor) -> Tensor:
    """``(..., 4)`` xyxy -> ``(..., 4)`` (cx, cy, w, h)."""
    x1, y1, x2, y2 = hboxes.unbind(-1)
    return torch.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], dim=-1)


@as_tensor_io
def hbox_cxcywh2xyxy(hboxes: Tensor) -> Tensor:
    """``(..., 4)`` (cx, cy, w, h) -> ``(..., 4)`` xyxy."""
    cx, cy, w, h = hboxes.unbind(-1)
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1)


@as_tensor_io
def hbox2rbox(hboxes: Tensor, angle_version: Optional[str] = None) -> Tensor:
    """``(..., 4)`` xyxy -> rbox ``(..., 5)`` with ``t = 0``.

    Args:
        angle_version: if given, the result is regularised to that version (``oc`` then gives
            ``t = -pi/2`` with w/h swapped; ``le90``/``le135`` swap w/h where ``h > w``).
            ``None`` (default, as mmrotate) returns ``(cx, cy, w, h, 0)`` unchanged.
    """
    cxcywh = hbox_xyxy2cxcywh(hboxes)
    rboxes = torch.cat([cxcywh, cxcywh.new_zeros(cxcywh.shape[:-1] + (1,))], dim=-1)
    return _maybe_regularize(rboxes, angle_version)


@as_tensor_io
def rbox2hbox(rboxes: Tensor) -> Tensor:
    """rbox ``(..., 5)`` -> tightest enclosing hbox ``(..., 4)`` xyxy."""
    cx, cy, w, h, t = rboxes.unbind(-1)
    c, s = torch.cos(t).abs(), torch.sin(t).abs()
    hw = (w * c + h * s) / 2
    hh = (w * s + h * c) / 2
    return torch.stack([cx - hw, cy - hh, cx + hw, cy + hh], dim=-1)


@as_tensor_io
def rbox2poly(rboxes: Tensor) -> Tensor:
    """rbox ``(..., 5)`` -> poly ``(..., 8)`` (vertex order in the module docstring)."""
    ctr, w, h, t = torch.split(rboxes, (2, 1, 1, 1), dim=-1)
    c, s = torch.cos(t), torch.sin(t)
    vu = torch.cat([w / 2 * c, w / 2 * s], dim=-1)
    vv = torch.cat([-h / 2 * s, h / 2 * c], dim=-1)
    return torch.cat([ctr + vu + vv, ctr + vu - vv, ctr - vu - vv, ctr - vu + vv], dim=-1)


@as_tensor_io
def poly2hbox(polys: Tensor) -> Tensor:
    """poly ``(..., 8)`` -> enclosing hbox ``(..., 4)`` xyxy."""
    pts = polys.unflatten(-1, (4, 2))
    return torch.cat([pts.amin(dim=-2), pts.amax(dim=-2)], dim=-1)


# the 6 point pairs of a quadrilateral: every edge of its convex hull is one of them
_PAIRS_I = (0, 0, 0, 1, 1, 2)
_PAIRS_J = (1, 2, 3, 2, 3, 3)


@as_tensor_io
def poly2rbox(polys: Tensor, angle_version: str = 'le90') -> Tensor:
    """poly ``(..., 8)`` -> minimum-area enclosing rbox ``(..., 5)`` in ``angle_version``.

    The minimum-area rectangle of a point set has one side on an edge of the convex hull
    (Freeman & Shapira 1975); for 4 points every hull edge joins one of the 6 point pairs, so we
    evaluate those 6 directions for all polygons at once and keep the smallest rectangle --
    exact, vectorised, no per-box ``cv2.minAreaRect`` loop. Same rectangle as
    ``cv2.minAreaRect`` (up to its float32 rounding); a rectangle input is reproduced exactly.
    Degenerate inputs (collinear / coincident points) give w or h = 0.
    """
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

    def pick(x: Tensor) -> Tensor:
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


def hbox2poly(hboxes: Tensor) -> Tensor:
    """``(..., 4)`` xyxy -> poly ``(..., 8)`` in the :func:`rbox2poly` vertex order."""
    return rbox2poly(hbox2rbox(hboxes))


def deg2rad(deg):
    """Degrees -> radians (for DOTA/detectron2 I/O only; boxes inside are radians)."""
    return deg * (math.pi / 180)


def rad2deg(rad):
    """Radians -> degrees (I/O only)."""
    return rad * (180 / math.pi)
