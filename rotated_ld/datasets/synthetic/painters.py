"""Per-class painters of the synthetic aerial scenes (one visually distinct look per DOTA class).

Every painter draws an object whose oriented box is ``(cx, cy, w, h, t)`` (pixels, ``t`` in radians,
positive ``t`` turns +x toward +y, i.e. clockwise on screen, as everywhere in rotated_ld) onto a BGR
uint8 image. Shapes are given in the object's local frame ``(u, v)`` with ``u`` along ``w`` and ``v``
along ``h``, both centred on the box; ``_to_img`` maps them to image pixels. The look of a class
is strong and consistent (shape + colour scheme) so that a small detector learns it on CPU in
minutes, with per-instance jitter in tint, size and aspect ratio.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

_SHIFT = 4  # cv2 sub-pixel bits: coordinates are multiplied by 16
_ONE = 1 << _SHIFT


def _to_img(pts, cx: float, cy: float, t: float) -> np.ndarray:
    """Local (u, v) points (K, 2) -> image points (K, 2) int32 in cv2 fixed-point (shift 4)."""
    pts = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
    c, s = math.cos(t), math.sin(t)
    x = cx + pts[:, 0] * c - pts[:, 1] * s
    y = cy + pts[:, 0] * s + pts[:, 1] * c
    return np.round(np.stack([x, y], 1) * _ONE).astype(np.int32)


def _rect(u0, v0, u1, v1):
    return [(u0, v0), (u1, v0), (u1, v1), (u0, v1)]


def _ellipse(cu, cv, ru, rv, a0=0.0, a1=2 * math.pi, n=28, center=False):
    a = np.linspace(a0, a1, n)
    pts = np.stack([cu + ru * np.cos(a), cv + rv * np.sin(a)], 1)
    if center:
        pts = np.concatenate([[[cu, cv]], pts], 0)
    return pts


def _stadium(hw, hh, n=14):
    """Rounded-end rectangle (half length hw >= half height hh)."""
    r = hh
    right = _ellipse(hw - r, 0, r, r, -math.pi / 2, math.pi / 2, n)
    left = _ellipse(-hw + r, 0, r, r, math.pi / 2, 3 * math.pi / 2, n)
    return np.concatenate([right, left], 0)


class _Pen:
    """Draws local-frame shapes of one object onto ``img``."""

    def __init__(self, img, cx, cy, w, h, t):
        self.img, self.cx, self.cy, self.w, self.h, self.t = img, cx, cy, w, h, t

    def fill(self, pts, color):
        cv2.fillPoly(self.img, [_to_img(pts, self.cx, self.cy, self.t)], _bgr(color),
                     cv2.LINE_AA, shift=_SHIFT)

    def line(self, pts, color, thickness=1, closed=False):
        cv2.polylines(self.img, [_to_img(pts, self.cx, self.cy, self.t)], closed, _bgr(color),
                      max(1, int(round(thickness))), cv2.LINE_AA, shift=_SHIFT)


def _bgr(color):
    return tuple(min(255, max(0, int(c))) for c in color)


def _jitter(rng, color, amount=12):
    return np.asarray(color, dtype=np.float64) + rng.uniform(-amount, amount, 3)


# ---------------------------------------------------------------- painters (BGR colours)
def paint_plane(p: _Pen, rng):
    w, h = p.w / 2, p.h / 2  # half length (u, nose at +u) and half span (v)
    body = _jitter(rng, (232, 232, 236), 10)
    p.fill([(w, 0), (0.8 * w, -0.09 * h), (-w, -0.07 * h), (-w, 0.07 * h), (0.8 * w, 0.09 * h)], body)
    p.fill([(0.25 * w, -0.08 * h), (-0.2 * w, -h), (-0.42 * w, -h), (-0.15 * w, -0.08 * h),
            (-0.15 * w, 0.08 * h), (-0.42 * w, h), (-0.2 * w, h), (0.25 * w, 0.08 * h)], body)
    p.fill([(-0.7 * w, -0.05 * h), (-0.9 * w, -0.36 * h), (-w, -0.36 * h), (-0.92 * w, 0),
            (-w, 0.36 * h), (-0.9 * w, 0.36 * h), (-0.7 * w, 0.05 * h)], body)
    for sgn in (-1, 1):  # engines under the wings
        p.fill(_rect(0.02 * w, sgn * 0.42 * h - 0.05 * h, 0.22 * w, sgn * 0.42 * h + 0.05 * h),
               (90, 90, 95))


def paint_helicopter(p: _Pen, rng):
    w, h = p.w / 2, p.h / 2
    p.fill(_ellipse(0.25 * w, 0, 0.42 * w, 0.32 * h), _jitter(rng, (45, 75, 55), 8))
    p.fill(_rect(-w, -0.06 * h, -0.1 * w, 0.06 * h), (45, 70, 55))
    p.fill(_rect(-w, -0.25 * h, -0.9 * w, 0.25 * h), (45, 70, 55))
    th = max(1.5, 0.06 * p.h)
    p.line([(0.25 * w - 0.75 * w, -0.95 * h), (0.25 * w + 0.75 * w, 0.95 * h)], (20, 20, 20), th)
    p.line([(0.25 * w - 0.75 * w, 0.95 * h), (0.25 * w + 0.75 * w, -0.95 * h)], (20, 20, 20), th)
    p.fill(_ellipse(0.3 * w, 0, 0.12 * w, 0.1 * h), (180, 200, 200))


def paint_ship(p: _Pen, rng):
    w, h = p.w / 2, p.h / 2
    hull = _jitter(rng, (205, 200, 195), 20)
    p.fill([(-w, -h), (0.45 * w, -h), (w, 0), (0.45 * w, h), (-w, h)], hull)
    p.fill(_rect(-0.8 * w, -0.55 * h, -0.35 * w, 0.55 * h), (70, 70, 80))
    p.fill(_rect(-0.25 * w, -0.45 * h, 0.35 * w, 0.45 * h), _jitter(rng, (60, 90, 150), 20))


def paint_small_vehicle(p: _Pen, rng):
    w, h = p.w / 2, p.h / 2
    colors = [(40, 40, 200), (200, 80, 30), (235, 235, 235), (35, 35, 35), (170, 170, 175),
              (40, 190, 220), (60, 120, 40)]
    p.fill(_stadium(w, 0.95 * h, 6), _jitter(rng, colors[rng.integers(len(colors))], 15))
    p.fill(_rect(0.15 * w, -0.8 * h, 0.45 * w, 0.8 * h), (25, 25, 30))
    p.fill(_rect(-0.7 * w, -0.75 * h, -0.5 * w, 0.75 * h), (25, 25, 30))


def paint_large_vehicle(p: _Pen, rng):
    w, h = p.w / 2, p.h / 2
    cabs = [(30, 30, 180), (160, 90, 30), (30, 140, 220), (200, 200, 200)]
    p.fill(_rect(-w, -h, 0.55 * w, h), _jitter(rng, (215, 220, 225), 15))
    p.fill(_rect(0.62 * w, -0.9 * h, w, 0.9 * h), _jitter(rng, cabs[rng.integers(len(cabs))], 10))
    p.fill(_rect(0.8 * w, -0.75 * h, 0.9 * w, 0.75 * h), (25, 25, 30))
    for k in range(1, 4):
        u = -w + k * 1.55 * w / 4
        p.line([(u, -h), (u, h)], (150, 150, 150), 1)


def paint_storage_tank(p: _Pen, rng):
    r = p.w / 2
    p.fill(_ellipse(0.12 * r, 0.12 * r, r, r), (60, 60, 60))  # shadow
    p.fill(_ellipse(0, 0, 0.93 * r, 0.93 * r), _jitter(rng, (215, 218, 220), 12))
    p.line(_ellipse(0, 0, 0.65 * r, 0.65 * r), (150, 155, 160), max(1.5, 0.07 * r), closed=True)
    p.fill(_ellipse(0, 0, 0.12 * r, 0.12 * r), (120, 120, 125))


def paint_roundabout(p: _Pen, rng):
    r = p.w / 2
    road = (85, 85, 88)
    th = 0.22 * r
    for a in rng.choice(4, size=rng.integers(2, 5), replace=False):  # roads leaving the ring
        ang = a * math.pi / 2 + rng.uniform(-0.2, 0.2)
        c, s = math.cos(ang), math.sin(ang)
        p.fill([(0.8 * r * c - th * s, 0.8 * r * s + th * c), (1.45 * r * c - th * s, 1.45 * r * s + th * c),
                (1.45 * r * c + th * s, 1.45 * r * s - th * c), (0.8 * r * c + th * s, 0.8 * r * s - th * c)],
               road)
    p.fill(_ellipse(0, 0, r, r), road)
    p.fill(_ellipse(0, 0, 0.58 * r, 0.58 * r), _jitter(rng, (65, 150, 80), 10))
    p.line(_ellipse(0, 0, 0.79 * r, 0.79 * r), (220, 220, 220), 1, closed=True)


def _court_lines(p: _Pen, bu, bv, r, color, th) -> None:
    """Boundary ``(±bu, ±bv)``, halfway line and centre circle of radius ``r`` of a ball court."""
    p.line(_rect(-bu, -bv, bu, bv), color, th, closed=True)
    p.line([(0, -bv), (0, bv)], color, th)
    p.line(_ellipse(0, 0, r, r), color, th, closed=True)


def paint_tennis_court(p: _Pen, rng):
    w, h = p.w / 2, p.h / 2
    p.fill(_rect(-w, -h, w, h), _jitter(rng, (70, 130, 60), 8))
    p.fill(_rect(-0.82 * w, -0.78 * h, 0.82 * w, 0.78 * h), _jitter(rng, (150, 95, 45), 10))
    white = (245, 245, 245)
    th = max(1.0, 0.04 * p.h)
    p.line(_rect(-0.82 * w, -0.78 * h, 0.82 * w, 0.78 * h), white, th, closed=True)
    p.line([(0, -0.9 * h), (0, 0.9 * h)], white, th)
    for u in (-0.45 * w, 0.45 * w):
        p.line([(u, -0.6 * h), (u, 0.6 * h)], white, th)
    p.line([(-0.45 * w, 0), (0.45 * w, 0)], white, th)
    for v in (-0.6 * h, 0.6 * h):
        p.line([(-0.82 * w, v), (0.82 * w, v)], white, th)


def paint_basketball_court(p: _Pen, rng):
    w, h = p.w / 2, p.h / 2
    p.fill(_rect(-w, -h, w, h), _jitter(rng, (70, 140, 215), 12))
    white = (250, 250, 250)
    th = max(1.0, 0.035 * p.h)
    _court_lines(p, 0.92 * w, 0.88 * h, 0.22 * h, white, th)
    for sgn in (-1, 1):
        p.fill(_rect(sgn * 0.92 * w, -0.22 * h, sgn * 0.55 * w, 0.22 * h), (40, 80, 170))
        p.line(_ellipse(sgn * 0.92 * w, 0, 0.75 * w, 0.7 * h,
                        math.pi / 2 if sgn > 0 else -math.pi / 2,
                        3 * math.pi / 2 if sgn > 0 else math.pi / 2, 20), white, th)


def paint_baseball_diamond(p: _Pen, rng):
    w, h = p.w / 2, p.h / 2
    home = (-0.9 * w, 0.9 * h)
    fan = _ellipse(home[0], home[1], 1.8 * w, 1.8 * h, -math.pi / 2, 0, 20, center=True)
    p.fill(fan, _jitter(rng, (55, 160, 70), 10))
    dirt = _ellipse(home[0], home[1], 1.05 * w, 1.05 * h, -math.pi / 2, 0, 16, center=True)
    p.fill(dirt, _jitter(rng, (70, 120, 175), 10))
    side = 0.62
    p.fill([home, (home[0] + side * w, home[1]), (home[0] + side * w, home[1] - side * h),
            (home[0], home[1] - side * h)], (60, 150, 75))
    for b in ((home[0] + side * w, home[1]), (home[0] + side * w, home[1] - side * h),
              (home[0], home[1] - side * h), home):
        p.fill(_rect(b[0] - 0.05 * w, b[1] - 0.05 * h, b[0] + 0.05 * w, b[1] + 0.05 * h), (240, 240, 240))


def paint_ground_track_field(p: _Pen, rng):
    w, h = p.w / 2, p.h / 2
    p.fill(_stadium(w, h), _jitter(rng, (60, 75, 175), 10))
    for f in (0.9, 0.8):  # lane lines
        p.line(_stadium(w - (1 - f) * h, f * h), (225, 225, 225), 1, closed=True)
    p.fill(_stadium(w - 0.3 * h, 0.7 * h), _jitter(rng, (60, 150, 65), 8))
    p.line(_rect(-0.5 * w, -0.55 * h, 0.5 * w, 0.55 * h), (235, 235, 235), 1, closed=True)


def paint_soccer_ball_field(p: _Pen, rng):
    w, h = p.w / 2, p.h / 2
    base = _jitter(rng, (55, 165, 60), 8)
    p.fill(_rect(-w, -h, w, h), base)
    n = 8
    for k in range(0, n, 2):  # mowing stripes
        u0 = -w + k * 2 * w / n
        p.fill(_rect(u0, -h, u0 + 2 * w / n, h), base * 0.85)
    white = (245, 245, 245)
    th = max(1.0, 0.025 * p.h)
    _court_lines(p, 0.94 * w, 0.92 * h, 0.2 * h, white, th)
    for sgn in (-1, 1):
        p.line([(sgn * 0.94 * w, -0.45 * h), (sgn * 0.72 * w, -0.45 * h), (sgn * 0.72 * w, 0.45 * h),
                (sgn * 0.94 * w, 0.45 * h)], white, th)


def paint_swimming_pool(p: _Pen, rng):
    w, h = p.w / 2, p.h / 2
    p.fill(_rect(-w, -h, w, h), (235, 235, 230))
    p.fill(_rect(-0.85 * w, -0.78 * h, 0.85 * w, 0.78 * h), _jitter(rng, (225, 185, 50), 12))
    for k in (-0.4, 0.0, 0.4):
        p.line([(-0.75 * w, k * h), (0.75 * w, k * h)], (200, 140, 30), 1)


def paint_bridge(p: _Pen, rng):
    w, h = p.w / 2, p.h / 2
    p.fill(_rect(-w, -h, w, h), _jitter(rng, (155, 155, 160), 10))
    p.fill(_rect(-w, -h, w, -0.78 * h), (95, 95, 100))
    p.fill(_rect(-w, 0.78 * h, w, h), (95, 95, 100))
    for k in range(8):
        u0 = -w + (k + 0.25) * 2 * w / 8
        p.line([(u0, 0), (u0 + 0.12 * w, 0)], (240, 240, 240), max(1.0, 0.05 * p.h))


def paint_harbor(p: _Pen, rng):
    w, h = p.w / 2, p.h / 2
    p.fill(_rect(-w, -h, w, h), _jitter(rng, (125, 140, 150), 10))
    p.line(_rect(-w, -h, w, h), (70, 80, 90), max(1.0, 0.06 * p.h), closed=True)
    for k in range(int(rng.integers(2, 6))):  # containers / bollards
        u = rng.uniform(-0.8, 0.6) * w
        p.fill(_rect(u, -0.5 * h, u + 0.15 * w, 0.1 * h),
               _jitter(rng, [(40, 40, 160), (150, 90, 30), (40, 140, 40)][k % 3], 15))


PAINTERS = {
    'plane': paint_plane,
    'baseball-diamond': paint_baseball_diamond,
    'bridge': paint_bridge,
    'ground-track-field': paint_ground_track_field,
    'small-vehicle': paint_small_vehicle,
    'large-vehicle': paint_large_vehicle,
    'ship': paint_ship,
    'tennis-court': paint_tennis_court,
    'basketball-court': paint_basketball_court,
    'storage-tank': paint_storage_tank,
    'soccer-ball-field': paint_soccer_ball_field,
    'roundabout': paint_roundabout,
    'harbor': paint_harbor,
    'swimming-pool': paint_swimming_pool,
    'helicopter': paint_helicopter,
}


def paint(img: np.ndarray, cls: str, rbox, rng: np.random.Generator, alpha: float = 1.0) -> None:
    """Paint one object of class ``cls`` with oriented box ``rbox = (cx, cy, w, h, t)`` in place.

    Drawing happens on the object's bounding ROI (fast on large scenes); ``alpha < 1`` blends it
    faintly into the ground (used for "difficult" objects).
    """
    cx, cy, w, h, t = (float(v) for v in rbox)
    ext = 1.6 * math.hypot(w, h) / 2 + 3  # painters may draw slightly outside the box (roads, rotor)
    H, W = img.shape[:2]
    x0, y0 = max(0, int(cx - ext)), max(0, int(cy - ext))
    x1, y1 = min(W, int(cx + ext) + 1), min(H, int(cy + ext) + 1)
    if x1 <= x0 or y1 <= y0:
        return
    roi = img[y0:y1, x0:x1]
    layer = roi.copy() if alpha < 1 else roi
    PAINTERS[cls](_Pen(layer, cx - x0, cy - y0, w, h, t), rng)
    if alpha < 1:
        cv2.addWeighted(layer, alpha, roi, 1 - alpha, 0, dst=roi)
