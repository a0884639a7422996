"""Synthetic large aerial scenes with the 15 DOTA v1.0 classes, written in DOTA format.

A scene is textured ground with fields, optionally a coastline and/or a river, a few roads,
and objects of all DOTA v1.0 classes placed without overlap in class-typical layouts:
parked planes on an apron, helicopters on pads, rows of small vehicles in parking lots and
cars/trucks along roads, storage-tank farms, rows of tennis/basketball courts, sports fields,
swimming pools near houses, harbours (piers) at the coast with ships moored beside them, ships
on water, bridges across rivers, roundabouts. Angles are arbitrary (round objects use t=0 as
DOTA annotators do), objects can be cut by the image border (labelled with the oriented box of
the visible part, ``difficult=1`` when less than 75% is visible), and ~4% of objects are drawn
faintly and flagged ``difficult=1``.

Sizes are in scene pixels and chosen so that every object fits well in a 512 px patch with a
200 px gap (largest side <= ~210 px; the split loses no object) and is still >= ~12 px on its
short side after resizing a 512 patch to 384 px: the task is learnable by a small CPU detector.

Everything is deterministic per ``(seed, index)``: ``numpy.random.default_rng([seed, index])``.
"""
from __future__ import annotations

import math
import os
import os.path as osp
from dataclasses import dataclass, field
from multiprocessing import Pool

import cv2
import numpy as np
import shapely

from ..dota_classes import DOTA_V1_0
from .painters import paint

# (long side range in px, short/long ratio range, round)
CLASS_SPECS: dict[str, tuple[tuple[float, float], tuple[float, float], bool]] = {
    'plane': ((70, 130), (0.9, 1.1), False),
    'baseball-diamond': ((90, 140), (1.0, 1.0), False),
    'bridge': ((100, 200), (0.14, 0.3), False),
    'ground-track-field': ((160, 205), (0.52, 0.6), False),
    'small-vehicle': ((26, 34), (0.45, 0.55), False),
    'large-vehicle': ((52, 80), (0.28, 0.36), False),
    'ship': ((70, 160), (0.2, 0.3), False),
    'tennis-court': ((64, 80), (0.46, 0.5), False),
    'basketball-court': ((70, 90), (0.53, 0.58), False),
    'storage-tank': ((30, 90), (1.0, 1.0), True),
    'soccer-ball-field': ((120, 170), (0.62, 0.7), False),
    'roundabout': ((80, 140), (1.0, 1.0), True),
    'harbor': ((110, 200), (0.18, 0.28), False),
    'swimming-pool': ((40, 80), (0.45, 0.65), False),
    'helicopter': ((44, 62), (0.8, 0.95), False),
}
_OCC = 4  # occupancy grid is 1/4 of the image resolution


@dataclass
class SceneObject:
    """One labelled object: polygon (8,) clockwise on screen (x1 y1 ... x4 y4), class, difficulty."""
    poly: np.ndarray
    cls: str
    difficult: int = 0


@dataclass
class Scene:
    img: np.ndarray
    objects: list[SceneObject] = field(default_factory=list)
    gsd: float = 0.15


def rbox_corners(cx: float, cy: float, w: float, h: float, t: float) -> np.ndarray:
    """(cx, cy, w, h, t radians) -> (8,) corners, clockwise on screen (image y points down)."""
    c, s = math.cos(t), math.sin(t)
    local = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    x = cx + local[:, 0] * c - local[:, 1] * s
    y = cy + local[:, 0] * s + local[:, 1] * c
    return np.stack([x, y], 1).reshape(-1)


class _Canvas:
    """The scene image plus low-resolution masks used for placement (occupancy, water, roads)."""

    def __init__(self, rng: np.random.Generator, width: int, height: int):
        self.rng, self.W, self.H = rng, width, height
        gw, gh = math.ceil(width / _OCC), math.ceil(height / _OCC)
        self.occ = np.zeros((gh, gw), np.uint8)
        self.water = np.zeros((gh, gw), np.uint8)
        self.road = np.zeros((gh, gw), np.uint8)
        self.img = _ground(rng, width, height)
        self.objects: list[SceneObject] = []
        self.box = shapely.box(0, 0, width, height)

    # ---------------------------------------------------------------- masks
    def _mask_of(self, poly: np.ndarray):
        """Rasterise a polygon on the grid: returns (roi slice, mask) or None when off-image."""
        pts = poly.reshape(-1, 2) / _OCC
        x0, y0 = np.floor(pts.min(0)).astype(int)
        x1, y1 = np.ceil(pts.max(0)).astype(int) + 1
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, self.occ.shape[1]), min(y1, self.occ.shape[0])
        if x1 <= x0 or y1 <= y0:
            return None
        m = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(m, [np.round((pts - (x0, y0)) * 4).astype(np.int32)], 1, shift=2)
        return (slice(y0, y1), slice(x0, x1)), m.astype(bool)

    def mark(self, poly: np.ndarray, grid: np.ndarray) -> None:
        r = self._mask_of(poly)
        if r is not None:
            grid[r[0]][r[1]] = 1

    def fits(self, poly: np.ndarray, where: str = 'land', min_visible: float = 0.45) -> float:
        """Visible fraction of ``poly`` if it can go there (no overlap, right terrain), else 0.

        ``where``: 'land' (no water, no road), 'water' (on water), 'road' (on a road), 'bridge'
        (anywhere free), 'any' (anywhere free except roads).
        """
        r = self._mask_of(poly)
        if r is None:
            return 0.0
        sl, m = r
        n = m.sum()
        if n == 0 or (self.occ[sl][m]).any():
            return 0.0
        wat = self.water[sl][m].mean()
        if where not in ('road', 'bridge') and self.road[sl][m].mean() > 0.02:
            return 0.0
        if where == 'land' and wat > 0.02:
            return 0.0
        if where == 'water' and wat < 0.97:
            return 0.0
        if where == 'road' and self.road[sl][m].mean() < 0.9:
            return 0.0
        p = shapely.Polygon(poly.reshape(4, 2))
        vis = shapely.area(shapely.intersection(p, self.box)) / max(p.area, 1e-6)
        return float(vis) if vis >= min_visible else 0.0

    # ---------------------------------------------------------------- objects
    def add(self, cls: str, rbox, where: str = 'land', vis_min: float = 0.45,
            faint_p: float = 0.04) -> bool:
        """Place and paint one object if it fits; returns whether it was placed."""
        poly = rbox_corners(*rbox)
        vis = self.fits(poly, where, vis_min)
        if vis == 0.0:
            return False
        faint = self.rng.random() < faint_p
        paint(self.img, cls, rbox, self.rng, alpha=0.5 if faint else 1.0)
        self.mark(poly, self.occ)
        difficult = int(faint)
        if vis < 0.999:  # cut by the border: label the visible part with its min-area box
            vis_poly = shapely.intersection(shapely.Polygon(poly.reshape(4, 2)), self.box)
            pts = np.asarray(vis_poly.exterior.coords, np.float32)
            poly = cv2.boxPoints(cv2.minAreaRect(pts)).astype(np.float64).reshape(-1)
            difficult = max(difficult, int(vis < 0.75))
        poly = np.clip(poly, 0, [self.W, self.H] * 4)  # labels never leave the image
        self.objects.append(SceneObject(poly, cls, difficult))
        return True

    def sample_size(self, cls: str) -> tuple[float, float]:
        (lo, hi), (alo, ahi), _ = CLASS_SPECS[cls]
        w = self.rng.uniform(lo, hi)
        return w, w * self.rng.uniform(alo, ahi)

    def rand_point(self, margin: float = -20):
        return (self.rng.uniform(-margin, self.W + margin), self.rng.uniform(-margin, self.H + margin))


def _ground(rng: np.random.Generator, W: int, H: int) -> np.ndarray:
    """Earthy textured ground: smooth low-frequency blotches + fine grain (fast, uint8 BGR)."""
    base = np.array(rng.choice([(70, 110, 105), (80, 120, 125), (60, 100, 90), (95, 125, 135)]),
                    np.float32) + rng.uniform(-10, 10, 3).astype(np.float32)
    low = cv2.resize(rng.normal(0, 1, (max(2, H // 96), max(2, W // 96))).astype(np.float32), (W, H),
                     interpolation=cv2.INTER_CUBIC)
    mid = cv2.resize(rng.normal(0, 1, (max(2, H // 12), max(2, W // 12))).astype(np.float32), (W, H),
                     interpolation=cv2.INTER_LINEAR)
    field_ = low * 14 + mid * 5
    img = np.empty((H, W, 3), np.uint8)
    tint = np.array([0.8, 1.0, 0.9], np.float32)
    grain = rng.integers(-6, 7, (H, W), dtype=np.int16).astype(np.float32)
    for c in range(3):
        img[..., c] = np.clip(base[c] + field_ * tint[c] + grain, 0, 255)
    for _ in range(int(rng.integers(3, 9))):  # fields / land-use patches
        cx, cy = rng.uniform(0, W), rng.uniform(0, H)
        pts = rbox_corners(cx, cy, rng.uniform(150, 600), rng.uniform(100, 400),
                           rng.uniform(-math.pi, math.pi))
        col = (base + rng.uniform(-25, 25, 3)).clip(0, 255)
        pts = pts.reshape(-1, 2)
        x0, y0 = np.clip(np.floor(pts.min(0)).astype(int), 0, (W, H))
        x1, y1 = np.clip(np.ceil(pts.max(0)).astype(int) + 1, 0, (W, H))
        if x1 <= x0 or y1 <= y0:
            continue
        roi = img[y0:y1, x0:x1]
        overlay = roi.copy()
        cv2.fillPoly(overlay, [np.round(pts - (x0, y0)).astype(np.int32)], tuple(float(c) for c in col))
        cv2.addWeighted(overlay, 0.5, roi, 0.5, 0, dst=roi)
    return img


def _draw_poly(img, pts, color):
    cv2.fillPoly(img, [np.round(np.asarray(pts).reshape(-1, 2) * 16).astype(np.int32)], color,
                 cv2.LINE_AA, shift=4)


def _add_coast(cv: _Canvas) -> tuple[np.ndarray, np.ndarray] | None:
    """Water along one image side with a wavy shoreline; returns (shore points (K, 2), inward normal)."""
    rng, W, H = cv.rng, cv.W, cv.H
    side = int(rng.integers(4))
    depth = rng.uniform(0.18, 0.3) * (W if side in (0, 2) else H)
    n = 40
    s = np.linspace(-50, (H if side in (0, 2) else W) + 50, n)
    wave = depth + 25 * np.sin(s / rng.uniform(150, 300) + rng.uniform(0, 6)) + rng.normal(0, 3, n)
    if side == 0:  # left
        shore = np.stack([wave, s], 1)
        poly = np.concatenate([[[-60, -60]], shore, [[-60, H + 60]]])
        normal = np.array([1.0, 0.0])
    elif side == 2:  # right
        shore = np.stack([W - wave, s], 1)
        poly = np.concatenate([[[W + 60, -60]], shore, [[W + 60, H + 60]]])
        normal = np.array([-1.0, 0.0])
    elif side == 1:  # top
        shore = np.stack([s, wave], 1)
        poly = np.concatenate([[[-60, -60]], shore, [[W + 60, -60]]])
        normal = np.array([0.0, 1.0])
    else:  # bottom
        shore = np.stack([s, H - wave], 1)
        poly = np.concatenate([[[-60, H + 60]], shore, [[W + 60, H + 60]]])
        normal = np.array([0.0, -1.0])
    _draw_poly(cv.img, poly, tuple(float(c) for c in _jit(rng, (120, 85, 45), 10)))
    _draw_poly(cv.img, np.concatenate([shore + normal * 6, shore[::-1] - normal * 6]), (150, 175, 190))
    m = np.zeros_like(cv.water)
    cv2.fillPoly(m, [np.round(poly / _OCC * 4).astype(np.int32)], 1, shift=2)
    cv.water |= m
    return shore, normal


def _jit(rng, color, a):
    return np.clip(np.asarray(color, np.float64) + rng.uniform(-a, a, 3), 0, 255)


def _band(cv: _Canvas, width: float, margin: float = 0.25):
    """A straight band through the scene: (point, unit direction, polygon (4, 2))."""
    rng = cv.rng
    p = np.array([rng.uniform(margin, 1 - margin) * cv.W, rng.uniform(margin, 1 - margin) * cv.H])
    a = rng.uniform(-math.pi, math.pi)
    d = np.array([math.cos(a), math.sin(a)])
    nrm = np.array([-d[1], d[0]])
    L = 2 * (cv.W + cv.H)
    poly = np.stack([p - d * L - nrm * width / 2, p + d * L - nrm * width / 2,
                     p + d * L + nrm * width / 2, p - d * L + nrm * width / 2])
    return p, d, poly


def _add_river(cv: _Canvas, roads) -> None:
    """A river band; a bridge wherever a road crosses it (the road is drawn below the water), a few
    footbridges elsewhere, and ships along the river."""
    rng = cv.rng
    width = rng.uniform(70, 120)
    p, d, poly = _band(cv, width)
    _draw_poly(cv.img, poly, tuple(float(c) for c in _jit(rng, (115, 80, 40), 10)))
    cv.mark(poly.reshape(-1), cv.water)
    t_river = math.atan2(d[1], d[0])
    for rp, rd, rw in roads:  # road centre line crossing the river centre line
        det = rd[0] * (-d[1]) - rd[1] * (-d[0])
        if abs(det) < 0.5:  # too oblique: the bridge would be too long, the road just ends at the bank
            continue
        diff = p - rp
        s = (diff[0] * (-d[1]) - diff[1] * (-d[0])) / det
        c = rp + rd * s
        length = width / abs(det) + rng.uniform(20, 35)
        if length > CLASS_SPECS['bridge'][0][1]:
            continue
        cv.add('bridge', (c[0], c[1], length, rw + rng.uniform(6, 10), math.atan2(rd[1], rd[0])), 'bridge',
               vis_min=0.6)
    for _ in range(int(rng.integers(0, 3))):  # footbridges
        c = p + d * rng.uniform(-0.45, 0.45) * min(cv.W, cv.H)
        cv.add('bridge', (c[0], c[1], width * rng.uniform(1.3, 1.6), rng.uniform(20, 30), t_river + math.pi / 2),
               'any', vis_min=0.6)
    for _ in range(int(rng.integers(0, 4))):  # ships along the river
        w, h = cv.sample_size('ship')
        c = p + d * rng.uniform(-0.6, 0.6) * max(cv.W, cv.H) + np.array([-d[1], d[0]]) * rng.uniform(-8, 8)
        t = t_river + (math.pi if rng.random() < 0.5 else 0.0)
        cv.add('ship', (c[0], c[1], min(w, 110), min(h, width * 0.35), t), 'water')


def _add_road(cv: _Canvas):
    """A straight road across the scene; returns (point, unit direction, width)."""
    rng = cv.rng
    width = rng.uniform(18, 26)
    p, d, poly = _band(cv, width, margin=0.1)
    _draw_poly(cv.img, poly, tuple(float(c) for c in _jit(rng, (88, 88, 92), 6)))
    L = 2 * (cv.W + cv.H)
    for k in np.arange(-L, L, 30.0):  # centre dashes
        a, b = p + d * k, p + d * (k + 14)
        cv2.line(cv.img, tuple(np.round(a).astype(int)), tuple(np.round(b).astype(int)), (200, 200, 200), 1)
    cv.mark(poly.reshape(-1), cv.road)
    return p, d, width


def _add_traffic(cv: _Canvas, road) -> None:
    rng = cv.rng
    p, d, width = road
    nrm = np.array([-d[1], d[0]])
    t = math.atan2(d[1], d[0])
    for _ in range(int(rng.integers(4, 14))):
        cls = 'small-vehicle' if rng.random() < 0.75 else 'large-vehicle'
        w, h = cv.sample_size(cls)
        lane = width / 4 * (1 if rng.random() < 0.5 else -1)
        c = p + d * rng.uniform(-1, 1) * max(cv.W, cv.H) + nrm * lane
        cv.add(cls, (c[0], c[1], w, min(h, width / 2 - 1), t + (math.pi if lane > 0 else 0.0)), 'road')


def _grid_layout(cv: _Canvas, cls: str, rows: int, cols: int, gap: tuple[float, float],
                 pad_color=None, where='land', jitter_t=0.04, fill_p=1.0, same_size=True, tries=8) -> None:
    """Rows x cols of one class on a common oriented grid (parking lot, tank farm, courts)."""
    rng = cv.rng
    w, h = cv.sample_size(cls)
    pitch_u, pitch_v = w + gap[0], h + gap[1]
    for _try in range(tries):
        cx, cy = cv.rand_point(60)
        t = rng.uniform(-math.pi, math.pi) if not CLASS_SPECS[cls][2] else 0.0
        lot = rbox_corners(cx, cy, cols * pitch_u + gap[0], rows * pitch_v + gap[1], t)
        if cv.fits(lot, where, 0.5) > 0.0:
            break
    else:
        return
    if pad_color is not None:
        _draw_poly(cv.img, lot, tuple(float(c) for c in _jit(rng, pad_color, 6)))
    c, s = math.cos(t), math.sin(t)
    for i in range(rows):
        for j in range(cols):
            if rng.random() > fill_p:
                continue
            u = (j - (cols - 1) / 2) * pitch_u
            v = (i - (rows - 1) / 2) * pitch_v
            ww, hh = (w, h) if same_size else cv.sample_size(cls)
            flip = math.pi if rng.random() < 0.5 and cls != 'tennis-court' else 0.0
            tt = t + rng.normal(0, jitter_t) + flip
            if CLASS_SPECS[cls][2]:
                tt = 0.0
            cv.add(cls, (cx + u * c - v * s, cy + u * s + v * c, ww, hh, tt), where)
    cv.mark(lot, cv.occ)


def _add_harbours(cv: _Canvas, shore: np.ndarray, normal: np.ndarray) -> None:
    rng = cv.rng
    for _ in range(int(rng.integers(2, 6))):
        k = int(rng.integers(3, len(shore) - 3))
        base = shore[k]
        w, h = cv.sample_size('harbor')
        tilt = rng.normal(0, 0.15)
        d = -normal  # piers point into the water
        ct, st = math.cos(tilt), math.sin(tilt)
        d = np.array([d[0] * ct - d[1] * st, d[0] * st + d[1] * ct])
        c = base + d * (w / 2 - 15)
        t = math.atan2(d[1], d[0])
        if not cv.add('harbor', (c[0], c[1], w, h, t), 'any', vis_min=0.6):
            continue
        nrm = np.array([-d[1], d[0]])
        for side in (-1, 1):  # ships moored beside the pier
            if rng.random() < 0.65:
                sw, sh = cv.sample_size('ship')
                sw = min(sw, w * 0.8)
                sc = c + d * rng.uniform(0, 0.2) * w + nrm * side * (h / 2 + sh / 2 + 4)
                cv.add('ship', (sc[0], sc[1], sw, sh, t + (math.pi if rng.random() < 0.5 else 0)), 'water')


def make_scene(rng: np.random.Generator | int, width: int, height: int,
               classes=DOTA_V1_0, density: float = 1.0) -> Scene:
    """Render one synthetic aerial scene.

    Args:
        rng: a numpy Generator or an int seed.
        width, height (int): scene size in pixels.
        classes (tuple[str]): classes to draw (subset of DOTA v1.0).
        density (float): multiplies the expected number of objects.

    Returns:
        Scene: ``img`` (H, W, 3) BGR uint8, ``objects`` (polygons in image pixels), ``gsd``.
    """
    rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    cv = _Canvas(rng, width, height)
    area = width * height / 4e6  # relative to a 2000 x 2000 scene
    want = set(classes)

    def n(mean):
        return int(rng.poisson(mean * density * max(area, 0.15)))

    # roads first: the coast and rivers are drawn over them (bridges where a road crosses a river)
    roads = [_add_road(cv) for _ in range(int(rng.integers(1, 4)))]
    coast = None
    if rng.random() < 0.6:
        coast = _add_coast(cv)
    if rng.random() < 0.5 and 'bridge' in want or ('bridge' in want and coast is None and rng.random() < 0.5):
        _add_river(cv, roads)
    cv.road &= ~cv.water.astype(bool)
    if 'small-vehicle' in want or 'large-vehicle' in want:
        for road in roads:
            _add_traffic(cv, road)
    if coast is not None and 'harbor' in want:
        _add_harbours(cv, *coast)
    # placement order: big things first so they find room
    if 'ground-track-field' in want:
        for _ in range(n(1.2)):
            for _try in range(15):
                if cv.add('ground-track-field', (*cv.rand_point(40), *cv.sample_size('ground-track-field'),
                                                 rng.uniform(-math.pi, math.pi))):
                    break
    for cls, mean in (('soccer-ball-field', 1.2), ('baseball-diamond', 1.2), ('roundabout', 1.0)):
        if cls not in want:
            continue
        for _ in range(n(mean)):
            for _try in range(15):
                w, h = cv.sample_size(cls)
                t = 0.0 if CLASS_SPECS[cls][2] else rng.uniform(-math.pi, math.pi)
                if cv.add(cls, (*cv.rand_point(40), w, h, t)):
                    break
    if 'plane' in want:
        for _ in range(n(1.2)):  # aprons with rows of parked planes
            _grid_layout(cv, 'plane', int(rng.integers(1, 3)), int(rng.integers(2, 5)), (12, 18),
                         pad_color=(175, 175, 170), jitter_t=0.03, fill_p=0.85, same_size=False)
    if 'storage-tank' in want:
        for _ in range(n(1.3)):
            _grid_layout(cv, 'storage-tank', int(rng.integers(1, 4)), int(rng.integers(2, 5)), (10, 10),
                         pad_color=(150, 150, 150), fill_p=0.9)
    if 'small-vehicle' in want:
        for _ in range(n(3.0)):  # parking lots
            _grid_layout(cv, 'small-vehicle', int(rng.integers(2, 6)), int(rng.integers(4, 12)), (4, 6),
                         pad_color=(95, 95, 100), fill_p=rng.uniform(0.5, 0.95), same_size=False)
    if 'large-vehicle' in want:
        for _ in range(n(1.3)):
            _grid_layout(cv, 'large-vehicle', int(rng.integers(1, 4)), int(rng.integers(2, 6)), (6, 8),
                         pad_color=(110, 110, 112), fill_p=0.8, same_size=False)
    for cls, mean, rows, cols in (('tennis-court', 1.5, (1, 3), (1, 4)),
                                  ('basketball-court', 1.3, (1, 3), (1, 3)),
                                  ('helicopter', 0.9, (1, 2), (1, 4))):
        if cls in want:
            for _ in range(n(mean)):
                _grid_layout(cv, cls, int(rng.integers(*rows)), int(rng.integers(*cols)), (10, 10),
                             pad_color=(120, 150, 120) if cls != 'helicopter' else (140, 140, 140),
                             jitter_t=0.0 if cls != 'helicopter' else 0.3)
    if 'ship' in want and coast is not None:
        for _ in range(n(6)):
            for _try in range(10):
                rbox = (*cv.rand_point(30), *cv.sample_size('ship'), rng.uniform(-math.pi, math.pi))
                if cv.add('ship', rbox, 'water'):
                    break
    if 'swimming-pool' in want:
        for _ in range(n(6)):  # pools next to houses
            for _try in range(10):
                cx, cy = cv.rand_point(30)
                hw = rng.uniform(30, 55)
                t = rng.uniform(-math.pi, math.pi)
                house = rbox_corners(cx, cy, hw, hw * rng.uniform(0.7, 1.0), t)
                if cv.fits(house, 'land', 0.9) == 0.0:
                    continue
                pw, ph = cv.sample_size('swimming-pool')
                off = hw / 2 + ph / 2 + 6
                pc = (cx - off * math.sin(t), cy + off * math.cos(t))
                if cv.add('swimming-pool', (*pc, pw, ph, t)):
                    _draw_poly(cv.img, house, tuple(float(c) for c in _jit(rng, (60, 80, 150), 25)))
                    cv.mark(house, cv.occ)
                    break
    for _ in range(n(8)):  # distractor roofs
        cx, cy = cv.rand_point(0)
        s = rng.uniform(25, 60)
        house = rbox_corners(cx, cy, s, s * rng.uniform(0.6, 1.0), rng.uniform(-math.pi, math.pi))
        if cv.fits(house, 'land', 0.9) > 0:
            _draw_poly(cv.img, house, tuple(float(c) for c in _jit(rng, (70, 90, 140), 30)))
            cv.mark(house, cv.occ)
    gsd = float(rng.uniform(0.1, 0.6))
    return Scene(cv.img, cv.objects, gsd)


def format_dota_lines(objects, gsd: float | None = None, imagesource: str | None = 'GoogleEarth'):
    """DOTA labelTxt lines (with the ``imagesource:`` / ``gsd:`` header lines when given)."""
    lines = []
    if imagesource is not None:
        lines.append(f'imagesource:{imagesource}')
    if gsd is not None:
        lines.append(f'gsd:{gsd:.6f}')
    for o in objects:
        lines.append(' '.join(f'{v:.1f}' for v in o.poly) + f' {o.cls} {int(o.difficult)}')
    return lines


def write_dota_scene(out_dir: str, name: str, scene: Scene, ext: str = '.png') -> None:
    """Write ``out_dir/images/{name}{ext}`` and ``out_dir/labelTxt/{name}.txt``."""
    os.makedirs(osp.join(out_dir, 'images'), exist_ok=True)
    os.makedirs(osp.join(out_dir, 'labelTxt'), exist_ok=True)
    params = [cv2.IMWRITE_PNG_COMPRESSION, 1] if ext == '.png' else []
    if not cv2.imwrite(osp.join(out_dir, 'images', name + ext), scene.img, params):
        raise OSError(f'could not write {osp.join(out_dir, "images", name + ext)}')
    with open(osp.join(out_dir, 'labelTxt', name + '.txt'), 'w') as f:
        f.write('\n'.join(format_dota_lines(scene.objects, scene.gsd)) + '\n')


def make_dota_scenes(out_dir: str, num: int = 20, size_range=(1500, 2500), seed: int = 0,
                     ext: str = '.png', prefix: str = 'P', start: int = 0, classes=DOTA_V1_0,
                     density: float = 1.0, nproc: int = 1) -> list[str]:
    """Write ``num`` synthetic scenes in DOTA layout (``images/``, ``labelTxt/``) under ``out_dir``.

    Scene ``i`` is named ``f'{prefix}{start + i:04d}'``, gets side lengths uniform in
    ``size_range`` and is rendered from ``default_rng([seed, start + i])`` (deterministic,
    independent of ``num`` and ``nproc``). Returns the scene names.
    """
    jobs = [(out_dir, f'{prefix}{start + i:04d}', seed, start + i, tuple(size_range), ext, tuple(classes),
             density) for i in range(num)]
    if nproc > 1:
        with Pool(nproc) as pool:
            pool.map(_make_one, jobs)
    else:
        for j in jobs:
            _make_one(j)
    return [j[1] for j in jobs]


def _make_one(job) -> None:
    out_dir, name, seed, index, (lo, hi), ext, classes, density = job
    rng = np.random.default_rng([seed, index])
    w, h = (int(v) for v in rng.integers(lo, hi + 1, 2))
    write_dota_scene(out_dir, name, make_scene(rng, w, h, classes, density), ext)
