"""IoU of general quadrilaterals (rotated_ld.ops.poly_iou).

Convex quads (either orientation) vs shapely, rectangles vs box_iou_rotated, non-convex and
self-intersecting quads via the counted shapely fallback, matrix/aligned shapes, gradients.
CPU time: ~3 s.
"""
import math

import numpy as np
import pytest
import shapely
import torch
from conftest import DEVICES

from rotated_ld.ops import POLY_IOU_STATS, box_iou_rotated, poly_iou
from rotated_ld.structures.bbox import poly_area, rbox2poly


def shapely_overlap(q1, q2, mode='iou'):
    g1 = shapely.make_valid(shapely.polygons(q1.double().view(-1, 4, 2).numpy()))
    g2 = shapely.make_valid(shapely.polygons(q2.double().view(-1, 4, 2).numpy()))
    inter = shapely.area(shapely.intersection(g1, g2, grid_size=1e-9))
    a1, a2 = shapely.area(g1), shapely.area(g2)
    den = a1 if mode == 'iof' else a1 + a2 - inter
    return np.where(den > 0, inter / np.where(den > 0, den, 1), 0.0)


def random_convex_quads(n, seed):
    """Points on random ellipses at sorted random angles, random orientation (CW or CCW)."""
    g = torch.Generator().manual_seed(seed)
    ang = torch.sort(torch.rand(n, 4, generator=g, dtype=torch.float64) * 2 * math.pi, dim=1)[0]
    flip = torch.rand(n, 1, generator=g) < 0.5
    ang = torch.where(flip, ang.flip(1), ang)
    r = torch.rand(n, 2, generator=g, dtype=torch.float64) * 20 + 1
    c = torch.rand(n, 2, generator=g, dtype=torch.float64) * 30
    pts = torch.stack([c[:, :1] + r[:, :1] * torch.cos(ang), c[:, 1:] + r[:, 1:] * torch.sin(ang)], -1)
    return pts.reshape(n, 8)


@pytest.mark.parametrize('dtype,tol', [(torch.float64, 1e-5), (torch.float32, 1e-3)])
@pytest.mark.parametrize('mode', ['iou', 'iof'])
def test_convex_quads_match_shapely(dtype, tol, mode):
    q1, q2 = random_convex_quads(3000, 0), random_convex_quads(3000, 1)
    q2[:300] = q1[:300].view(-1, 4, 2).roll(1, dims=1).reshape(-1, 8)  # identical, shifted start
    before = POLY_IOU_STATS['fallback_pairs']
    ours = poly_iou(q1.to(dtype), q2.to(dtype), mode, aligned=True)
    assert POLY_IOU_STATS['fallback_pairs'] == before  # all convex: no fallback
    ref = shapely_overlap(q1.to(dtype), q2.to(dtype), mode)
    assert np.abs(ours.double().numpy() - ref).max() <= tol
    assert torch.allclose(ours[:300].double(), torch.ones(300, dtype=torch.float64), atol=tol)


def test_rectangles_match_box_iou_rotated():
    g = torch.Generator().manual_seed(2)
    b1 = torch.cat([torch.rand(150, 2, generator=g) * 50, torch.rand(150, 2, generator=g) * 30 + 1,
                    torch.rand(150, 1, generator=g) * 7], 1).double()
    b2 = torch.cat([torch.rand(100, 2, generator=g) * 50, torch.rand(100, 2, generator=g) * 30 + 1,
                    torch.rand(100, 1, generator=g) * 7], 1).double()
    assert torch.allclose(poly_iou(rbox2poly(b1), rbox2poly(b2)), box_iou_rotated(b1, b2), atol=1e-10)


def test_nonconvex_fallback_counted_and_correct():
    q1 = random_convex_quads(200, 3)
    q2 = random_convex_quads(200, 4)
    pts = q1.view(-1, 4, 2).clone()
    pts[:100, 1] = pts[:100, [0, 2, 3]].mean(1)  # dart: vertex inside the other three's triangle
    pts[100:120] = pts[100:120, [0, 2, 1, 3]]  # bow-tie (self-intersecting)
    qn = pts.reshape(-1, 8)
    before = dict(POLY_IOU_STATS)
    ours = poly_iou(qn, q2, aligned=True)
    assert POLY_IOU_STATS['nonconvex_polys'] - before['nonconvex_polys'] >= 100
    assert POLY_IOU_STATS['fallback_pairs'] - before['fallback_pairs'] >= 100
    assert np.abs(ours.numpy() - shapely_overlap(qn, q2)).max() <= 1e-6
    m = poly_iou(qn[:30], q2[:20])
    ref = shapely_overlap(qn[:30].repeat_interleave(20, 0), q2[:20].repeat(30, 1)).reshape(30, 20)
    assert np.abs(m.numpy() - ref).max() <= 1e-6


@pytest.mark.parametrize('device', DEVICES)
def test_shapes_and_empty(device):
    q = random_convex_quads(10, 5).to(device)
    assert poly_iou(q, q[:4]).shape == (10, 4)
    assert poly_iou(q, q, aligned=True).shape == (10,)
    assert poly_iou(q[:0], q).shape == (0, 10)
    assert poly_iou(q[:0], q[:0], aligned=True).shape == (0,)
    with pytest.raises(ValueError, match='mode'):
        poly_iou(q, q, mode='x')
    with pytest.raises(ValueError, match=r'\(N, 8\)'):
        poly_iou(q[:, :6], q)


def test_area_and_gradients():
    sq = torch.tensor([[0., 0., 2., 0., 2., 2., 0., 2.]], dtype=torch.float64)
    assert poly_area(sq).item() == 4.0
    assert poly_area(sq.view(1, 4, 2).flip(1).reshape(1, 8)).item() == 4.0
    q1 = random_convex_quads(6, 6).requires_grad_()
    q2 = random_convex_quads(6, 7).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: poly_iou(a, b, aligned=True), (q1, q2))
