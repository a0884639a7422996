"""Box geometry for error statistics: canonical boxes, centre / size / angle errors (numpy only).

Boxes come in three layouts: rotated ``(K, 5)`` ``(cx, cy, w, h, t)`` with ``t`` in radians (any
angle version: ``oc``, ``le90``, ``le135`` give the same canonical box), DOTA polygons ``(K, 8)``
``x1 y1 ... x4 y4`` (their minimum-area rectangle is used), horizontal ``(K, 4)`` xyxy.

Canonical rotated box: ``(cx, cy, L, S, phi)`` with ``L >= S`` the long and short side and ``phi``
the direction of the long side in ``[0, pi)``. A rectangle looks the same after a half turn, so
angles are only defined modulo ``pi``; a square looks the same after a quarter turn.

Angle-error rule (:func:`angle_error`):
    * the ground truth is *elongated* when ``L / S >= square_ratio`` (default 1.2): error =
      distance between the long-side directions modulo ``pi``, in ``[0, pi/2]``;
    * otherwise it is *near-square*: error = distance between any side directions modulo
      ``pi/2``, in ``[0, pi/4]`` (which side is "long" is noise for such objects).
"""
from __future__ import annotations

import numpy as np

from rotated_ld.datasets.converters.common import min_area_rect_poly
from rotated_ld.structures.bbox import wrap_angle

__all__ = ['canonical_rboxes', 'hbox_params', 'angle_error', 'centre_error', 'size_error', 'size_bucket',
           'SIZE_BUCKETS']

# COCO's sqrt(area) limits (32², 96² px²), applied to the ground-truth box
SIZE_BUCKETS = (('small', 0.0, 32.0), ('medium', 32.0, 96.0), ('large', 96.0, np.inf))


def _centred_wrap(a: np.ndarray, period: float) -> np.ndarray:
    """``a`` wrapped into ``[-period/2, period/2)`` (the package's one angle wrap)."""
    return wrap_angle(np.asarray(a, np.float64), -period / 2, period)


def _min_area_rect(poly: np.ndarray) -> np.ndarray:
    """``(8,)`` polygon → ``(8,)`` corners of its minimum-area rectangle (exact, float64)."""
    return min_area_rect_poly(poly.reshape(4, 2))


def _rect_is_exact(polys: np.ndarray) -> np.ndarray:
    """``(K,)`` bool: the quadrilateral is already a rectangle (opposite sides equal, right angle)."""
    p = polys.reshape(-1, 4, 2)
    e = np.roll(p, -1, axis=1) - p  # (K, 4, 2) edges
    n = np.linalg.norm(e, axis=2)
    scale = np.maximum(n.max(1), 1e-12)
    dot = np.abs((e[:, 0] * e[:, 1]).sum(1)) / np.maximum(n[:, 0] * n[:, 1], 1e-12)
    return (np.abs(n[:, 0] - n[:, 2]) < 1e-6 * scale) & (np.abs(n[:, 1] - n[:, 3]) < 1e-6 * scale) & (dot < 1e-9)


def canonical_rboxes(boxes: np.ndarray) -> np.ndarray:
    """``(K, 5)`` rboxes or ``(K, 8)`` polygons → ``(K, 5)`` ``(cx, cy, L, S, phi)`` (module docstring)."""
    b = np.asarray(boxes, np.float64)
    if b.size == 0:
        return np.zeros((0, 5))
    if b.shape[-1] == 5:
        cx, cy, w, h, t = b.reshape(-1, 5).T
    elif b.shape[-1] == 8:
        p = b.reshape(-1, 8).copy()
        bad = ~_rect_is_exact(p)
        for i in np.flatnonzero(bad):  # annotators' quadrilaterals: fit the rectangle (as mmrotate's poly2obb)
            p[i] = _min_area_rect(p[i])
        q = p.reshape(-1, 4, 2)
        e1, e2 = q[:, 1] - q[:, 0], q[:, 2] - q[:, 1]
        cx, cy = q[:, :, 0].mean(1), q[:, :, 1].mean(1)
        w, h = np.linalg.norm(e1, axis=1), np.linalg.norm(e2, axis=1)
        t = np.arctan2(e1[:, 1], e1[:, 0])
    else:
        raise ValueError(f'boxes of shape {b.shape}; expected (K, 5) rotated boxes or (K, 8) polygons')
    long_is_w = w >= h
    big, small = np.where(long_is_w, w, h), np.where(long_is_w, h, w)
    phi = np.where(long_is_w, t, t + np.pi / 2) % np.pi
    return np.stack([cx, cy, big, small, phi], 1)


def hbox_params(boxes: np.ndarray) -> np.ndarray:
    """``(K, 4)`` xyxy → ``(K, 4)`` ``(cx, cy, w, h)``."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    return np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2, b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], 1)


def angle_error(det: np.ndarray, gt: np.ndarray, square_ratio: float = 1.2) -> np.ndarray:
    """``(K,)`` absolute angle error in radians between canonical boxes ``det`` and ``gt`` ``(K, 5)``.

    Elongated ground truth (``L / S >= square_ratio``): long-side directions modulo ``pi``
    (result in ``[0, pi/2]``); near-square: side directions modulo ``pi/2`` (``[0, pi/4]``).
    """
    det, gt = np.asarray(det, np.float64).reshape(-1, 5), np.asarray(gt, np.float64).reshape(-1, 5)
    square = gt[:, 2] < square_ratio * gt[:, 3]
    d = det[:, 4] - gt[:, 4]
    return np.where(square, np.abs(_centred_wrap(d, np.pi / 2)), np.abs(_centred_wrap(d, np.pi)))


def centre_error(det: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(px, relative)``: centre distance in pixels and divided by ``sqrt(gt area)``.

    ``det``/``gt``: ``(K, >=4)`` with ``cx, cy, side1, side2`` first (canonical rboxes or
    :func:`hbox_params`).
    """
    det, gt = np.asarray(det, np.float64), np.asarray(gt, np.float64)
    px = np.hypot(det[:, 0] - gt[:, 0], det[:, 1] - gt[:, 1])
    return px, px / np.maximum(np.sqrt(gt[:, 2] * gt[:, 3]), 1e-12)


def size_error(det: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """``(K,)`` mean relative side error ``(|L_d/L_g - 1| + |S_d/S_g - 1|) / 2`` (w / h for hboxes)."""
    det, gt = np.asarray(det, np.float64), np.asarray(gt, np.float64)
    r1 = np.abs(det[:, 2] / np.maximum(gt[:, 2], 1e-12) - 1)
    r2 = np.abs(det[:, 3] / np.maximum(gt[:, 3], 1e-12) - 1)
    return (r1 + r2) / 2


def size_bucket(gt: np.ndarray, buckets=SIZE_BUCKETS) -> np.ndarray:
    """``(K,)`` bucket names by ``sqrt(side1 * side2)`` of the ground truth."""
    s = np.sqrt(np.asarray(gt, np.float64)[:, 2] * np.asarray(gt, np.float64)[:, 3])
    out = np.empty(len(s), dtype=object)
    for name, lo, hi in buckets:
        out[(s >= lo) & (s < hi)] = name
    return out
