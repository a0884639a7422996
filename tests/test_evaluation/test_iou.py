"""Polygon / hbox IoU used by the evaluation, against shapely and closed-form answers (< 2 s CPU)."""
import numpy as np
import pytest
import shapely

from rotated_ld.evaluation.functional import devkit_poly_iou, hbox_iou_pairs, is_convex_quad, poly_iou_pairs
from rotated_ld.evaluation.functional.iou import _convex_iou_numpy, _signed_area

from ._helpers import random_rboxes, rbox2poly_np, rect, shapely_iou


@pytest.mark.parametrize('backend', ['numpy', 'ops', 'shapely'])
def test_random_rotated_pairs_match_shapely(backend):
    rng = np.random.default_rng(0)
    a = rbox2poly_np(random_rboxes(rng, 400, hi=80))
    b = rbox2poly_np(random_rboxes(rng, 400, hi=80))
    ref = np.array([shapely_iou(p, q) for p, q in zip(a, b)])
    assert (ref > 0).sum() > 100
    np.testing.assert_allclose(poly_iou_pairs(a, b, backend=backend), ref, atol=1e-10)


def test_large_coordinates_and_orientation():
    rng = np.random.default_rng(1)
    a = rbox2poly_np(random_rboxes(rng, 200, lo=15000, hi=15080))
    b = rbox2poly_np(random_rboxes(rng, 200, lo=15000, hi=15080))
    ref = np.array([shapely_iou(p, q) for p, q in zip(a, b)])
    # reversed vertex order (clockwise) gives the same IoU
    b_cw = b.reshape(-1, 4, 2)[:, ::-1].reshape(-1, 8)
    np.testing.assert_allclose(poly_iou_pairs(a, b_cw), ref, atol=1e-9)


def test_closed_form_and_shared_edges():
    a = np.array([rect(0, 0, 10, 10)] * 5, float)
    b = np.array([rect(5, 0, 15, 10), rect(0, 0, 10, 5), rect(10, 0, 20, 10), rect(0, 0, 5, 5),
                  rect(0, 0, 10, 10)], float)
    np.testing.assert_array_equal(poly_iou_pairs(a, b, backend='numpy'), [1 / 3, 0.5, 0.0, 0.25, 1.0])
    # 45 degree square in a square of the same centre: inter = 2 - 2*(sqrt2-1)^2 ...
    s = np.sqrt(2) / 2
    diamond = np.array([[0, -s * 2, s * 2, 0, 0, s * 2, -s * 2, 0]])  # side 2, rotated 45
    sq = np.array([rect(-1, -1, 1, 1)], float)
    ref = shapely_iou(diamond[0], sq[0])
    np.testing.assert_allclose(poly_iou_pairs(diamond, sq), [ref], atol=1e-12)


def test_integer_grid_coincidences():
    rng = np.random.default_rng(2)

    def boxes(n):
        g = rng.integers(0, 5, (n, 4)).astype(float)
        x1, x2 = np.minimum(g[:, 0], g[:, 1]), np.maximum(g[:, 0], g[:, 1]) + 1
        y1, y2 = np.minimum(g[:, 2], g[:, 3]), np.maximum(g[:, 2], g[:, 3]) + 1
        return np.stack([x1, y1, x2, y1, x2, y2, x1, y2], 1)

    a, b = boxes(500), boxes(500)
    ref = np.array([shapely_iou(p, q) for p, q in zip(a, b)])
    np.testing.assert_allclose(poly_iou_pairs(a, b, backend='numpy'), ref, atol=1e-12)
    # the same on rotated copies (collinear edges at 30 degrees)
    c, s = np.cos(0.5236), np.sin(0.5236)

    def rot(p):
        p = p.reshape(-1, 4, 2)
        return np.stack([p[..., 0] * c - p[..., 1] * s, p[..., 0] * s + p[..., 1] * c], -1).reshape(-1, 8)

    np.testing.assert_allclose(poly_iou_pairs(rot(a), rot(b), backend='numpy'), ref, atol=1e-9)


def test_non_convex_quads_use_devkit_rule():
    p = np.array([0, 0, 10, 0, 5, 2, 5, 10.])  # arrow head: simple, non-convex
    q = np.array([2, 1, 8, 1, 8, 8, 2, 8.])
    assert is_convex_quad(np.stack([p, q])).tolist() == [False, True]
    ref = shapely_iou(p, q)
    assert abs(devkit_poly_iou(p, q) - ref) < 1e-12
    assert abs(poly_iou_pairs(p[None], q[None])[0] - ref) < 1e-12
    # random simple non-convex quads vs shapely
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(300):
        p = rng.uniform(0, 10, 8)
        q = rng.uniform(0, 10, 8)
        if not (shapely.Polygon(p.reshape(4, 2)).is_valid and shapely.Polygon(q.reshape(4, 2)).is_valid):
            continue
        checked += 1
        assert abs(poly_iou_pairs(p[None], q[None])[0] - shapely_iou(p, q)) < 1e-9
    assert checked > 50


def test_convex_numpy_needs_ccw_and_handles_degenerate():
    a = np.array([rect(0, 0, 10, 10)], float)
    assert _signed_area(a.reshape(-1, 4, 2))[0] > 0
    line = np.array([[0, 0, 5, 0, 10, 0, 5, 0]], float)  # zero area
    assert poly_iou_pairs(a, line)[0] == 0.0
    assert _convex_iou_numpy(line, line)[0] == 0.0
    assert poly_iou_pairs(np.zeros((0, 8)), np.zeros((0, 8))).shape == (0,)


def test_hbox_iou_legacy():
    a = np.array([[0, 0, 9, 9]], float)
    b = np.array([[0, 0, 9, 4]], float)
    assert hbox_iou_pairs(a, b, legacy=True)[0] == pytest.approx(50 / 100)
    assert hbox_iou_pairs(a, b)[0] == pytest.approx(36 / 81)


def test_overlap_pairs_equals_brute_force():
    from rotated_ld.evaluation.functional.iou import overlap_pairs

    rng = np.random.default_rng(4)

    def boxes(n):
        xy = rng.uniform(0, 300, (n, 2))
        wh = rng.uniform(1, 60, (n, 2))
        return np.concatenate([xy, xy + wh], 1), rng.integers(0, 4, n)

    (ba, ga), (bb, gb) = boxes(300), boxes(200)
    bb[0] = [-50, -40, 400, 20]  # one huge box: coarse cells for its group
    for pad in (0.0, 1.0):
        ia, ib = overlap_pairs(ba, ga, bb, gb, pad=pad)
        got = set(zip(ia.tolist(), ib.tolist()))
        ov = ((np.minimum(ba[:, None, 2], bb[None, :, 2]) - np.maximum(ba[:, None, 0], bb[None, :, 0]) + pad >= 0)
              & (np.minimum(ba[:, None, 3], bb[None, :, 3]) - np.maximum(ba[:, None, 1], bb[None, :, 1]) + pad >= 0)
              & (ga[:, None] == gb[None, :]))
        assert got == set(zip(*[x.tolist() for x in np.nonzero(ov)]))
    e = overlap_pairs(np.zeros((0, 4)), np.zeros(0), bb, gb)
    assert e[0].shape == (0,)
