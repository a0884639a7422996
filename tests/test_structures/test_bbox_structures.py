"""Box structures: angle versions, converters, flips/rotations (rotated_ld.structures.bbox).

Covers ranges per version, idempotence, poly -> rbox -> poly round trips (hypothesis + random),
poly2rbox vs cv2.minAreaRect, closed-form answers, numpy in/out, inputs not mutated.
CPU time: ~3 s.
"""
import math

import cv2
import numpy as np
import pytest
import torch
from conftest import DEVICES
from hypothesis import given, settings
from hypothesis import strategies as st

from rotated_ld.structures.bbox import (
    ANGLE_RANGES,
    ANGLE_VERSIONS,
    convert_rbox_version,
    flip_rboxes,
    hbox2rbox,
    hbox_cxcywh2xyxy,
    hbox_xyxy2cxcywh,
    norm_angle,
    poly2hbox,
    poly2rbox,
    rbox2hbox,
    rbox2poly,
    rbox_in_range,
    regularize_rboxes,
    rotate_rboxes,
)

PI = math.pi


def random_rboxes(n, seed=0, dtype=torch.float64, device='cpu'):
    g = torch.Generator().manual_seed(seed)
    b = torch.cat([torch.rand(n, 2, generator=g) * 200, torch.rand(n, 2, generator=g) * 80 + 0.5,
                   (torch.rand(n, 1, generator=g) - 0.5) * 4 * PI], dim=1)
    return b.to(dtype=dtype, device=device)


def same_vertex_set(p1, p2, atol):
    """Polygons (..., 8) equal up to a cyclic shift / reversal of the vertex order."""
    a, b = p1.reshape(-1, 4, 2), p2.reshape(-1, 4, 2)
    d = (a[:, :, None] - b[:, None]).norm(dim=-1)  # (n, 4, 4)
    return bool((d.amin(-1).amax(-1) <= atol).all() and (d.amin(-2).amax(-1) <= atol).all())


@pytest.mark.parametrize('version', ANGLE_VERSIONS)
@pytest.mark.parametrize('device', DEVICES)
def test_regularize_ranges_and_idempotent(version, device):
    b = random_rboxes(2000, device=device)
    b[:50, 3] = b[:50, 2]  # squares
    start, end = ANGLE_RANGES[version]
    b[50:60, 4] = start
    b[60:70, 4] = end
    b[70:80, 4] = -1e-20
    r = regularize_rboxes(b, version)
    assert r.device == b.device
    assert rbox_in_range(r, version).all()
    assert ((r[:, 4] >= start) & (r[:, 4] < end)).all()
    assert torch.allclose(regularize_rboxes(r, version), r, atol=1e-12)
    # same rectangle
    assert same_vertex_set(rbox2poly(b), rbox2poly(r), 1e-9)


def test_version_table():
    b = torch.tensor([[0., 0., 2., 1., 0.], [0., 0., 1., 2., 0.], [0., 0., 2., 1., PI / 2]])
    assert torch.allclose(regularize_rboxes(b, 'le90'),
                          torch.tensor([[0., 0., 2., 1., 0.], [0., 0., 2., 1., -PI / 2],
                                        [0., 0., 2., 1., -PI / 2]]))
    assert torch.allclose(regularize_rboxes(b, 'oc'),
                          torch.tensor([[0., 0., 1., 2., -PI / 2], [0., 0., 2., 1., -PI / 2],
                                        [0., 0., 2., 1., -PI / 2]]))
    assert torch.allclose(regularize_rboxes(b, 'le135'),
                          torch.tensor([[0., 0., 2., 1., 0.], [0., 0., 2., 1., PI / 2],
                                        [0., 0., 2., 1., PI / 2]]))
    with pytest.raises(ValueError, match='angle_version'):
        regularize_rboxes(b, 'le45')


def test_norm_angle():
    t = torch.tensor([-PI / 2, PI / 2, 0.0, 3 * PI / 4, -PI / 4 - 1e-3])
    assert torch.allclose(norm_angle(t, 'le90'), torch.tensor([-PI / 2, -PI / 2, 0.0, -PI / 4, -PI / 4 - 1e-3]))
    assert torch.allclose(norm_angle(t, 'le135'), torch.tensor([PI / 2, PI / 2, 0.0, -PI / 4, 3 * PI / 4 - 1e-3]))
    o = norm_angle(t, 'oc')
    assert ((o >= -PI / 2) & (o < 0)).all()


@pytest.mark.parametrize('version', ANGLE_VERSIONS)
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_poly_rbox_round_trip(version, dtype):
    b = random_rboxes(3000, seed=1, dtype=dtype)
    p = rbox2poly(b)
    r = poly2rbox(p, version)
    assert rbox_in_range(r, version, atol=1e-6).all()
    atol = 1e-8 if dtype == torch.float64 else 2e-3
    assert same_vertex_set(rbox2poly(r), p, atol)
    if dtype == torch.float64:
        ref = regularize_rboxes(b, version)
        # away from the squares / range ends the representation is unique
        ok = ((b[:, 2] - b[:, 3]).abs() > 1e-3)
        ok &= ((ref[:, 4] - ANGLE_RANGES[version][0]).abs() > 1e-6)
        diff = (r - ref)[ok]
        assert diff.abs().max() < 1e-8


@settings(max_examples=60, deadline=None)
@given(cx=st.floats(-1e3, 1e3), cy=st.floats(-1e3, 1e3), w=st.floats(0.1, 500), h=st.floats(0.1, 500),
       t=st.floats(-10, 10), version=st.sampled_from(ANGLE_VERSIONS))
def test_round_trip_property(cx, cy, w, h, t, version):
    b = torch.tensor([[cx, cy, w, h, t]], dtype=torch.float64)
    p = rbox2poly(b)
    r = poly2rbox(p, version)
    assert rbox_in_range(r, version).all()
    assert same_vertex_set(rbox2poly(r), p, 1e-9 * (1 + abs(cx) + abs(cy) + w + h))
    assert torch.allclose(r[:, 2] * r[:, 3], b[:, 2] * b[:, 3], rtol=1e-9)


def test_poly2rbox_matches_min_area_rect():
    rng = np.random.default_rng(0)
    q = rng.uniform(0, 100, (300, 8))
    r = poly2rbox(q, 'le90')  # numpy in -> numpy out
    assert isinstance(r, np.ndarray) and r.shape == (300, 5)
    for i in range(len(q)):
        (_, _), (w, h), _ = cv2.minAreaRect(q[i].reshape(4, 2).astype(np.float32))
        assert abs(w * h - r[i, 2] * r[i, 3]) <= 1e-3 * max(1.0, w * h)
    # every point inside its rectangle (tolerance for the boundary points)
    p = torch.from_numpy(q).view(-1, 4, 2)
    rb = torch.from_numpy(r)
    c, s = torch.cos(rb[:, 4]), torch.sin(rb[:, 4])
    d = p - rb[:, None, :2]
    u = d[..., 0] * c[:, None] + d[..., 1] * s[:, None]
    v = -d[..., 0] * s[:, None] + d[..., 1] * c[:, None]
    assert (u.abs() <= rb[:, None, 2] / 2 + 1e-9).all() and (v.abs() <= rb[:, None, 3] / 2 + 1e-9).all()


def test_poly2rbox_degenerate():
    q = torch.tensor([[1., 1., 1., 1., 1., 1., 1., 1.],  # a point
                      [0., 0., 1., 1., 2., 2., 3., 3.]], dtype=torch.float64)  # a segment
    r = poly2rbox(q)
    assert torch.isfinite(r).all()
    assert torch.allclose(r[0, :4], torch.tensor([1., 1., 0., 0.], dtype=torch.float64))
    assert torch.allclose(r[1, :4], torch.tensor([1.5, 1.5, 3 * math.sqrt(2), 0.], dtype=torch.float64))
    assert torch.allclose(r[1, 4], torch.tensor(PI / 4, dtype=torch.float64))


def test_rbox2poly_vertex_order_and_closed_form():
    p = rbox2poly(torch.tensor([[0., 0., 4., 2., 0.]]))
    assert torch.equal(p, torch.tensor([[2., 1., 2., -1., -2., -1., -2., 1.]]))
    pts = p.view(4, 2)
    shoelace = (pts[:, 0] * pts.roll(-1, 0)[:, 1] - pts.roll(-1, 0)[:, 0] * pts[:, 1]).sum()
    assert shoelace == -16  # = -2 * w * h (documented orientation)
    # a unit square turned by 45 deg: enclosing hbox has side sqrt(2)
    hb = rbox2hbox(torch.tensor([[0., 0., 1., 1., PI / 4]]))
    assert torch.allclose(hb, torch.tensor([[-1., -1., 1., 1.]]) * math.sqrt(2) / 2)
    assert torch.allclose(poly2hbox(rbox2poly(torch.tensor([[0., 0., 1., 1., PI / 4]]))), hb)


def test_hbox_helpers():
    xyxy = torch.tensor([[1., 2., 5., 10.]])
    cxcywh = hbox_xyxy2cxcywh(xyxy)
    assert torch.equal(cxcywh, torch.tensor([[3., 6., 4., 8.]]))
    assert torch.equal(hbox_cxcywh2xyxy(cxcywh), xyxy)
    assert torch.equal(hbox2rbox(xyxy), torch.tensor([[3., 6., 4., 8., 0.]]))
    assert torch.allclose(hbox2rbox(xyxy, 'le90'), torch.tensor([[3., 6., 8., 4., -PI / 2]]))
    assert torch.allclose(rbox2hbox(hbox2rbox(xyxy, 'oc')), xyxy)
    assert hbox2rbox(torch.zeros((0, 4))).shape == (0, 5)


@pytest.mark.parametrize('direction', ['horizontal', 'vertical', 'diagonal'])
@pytest.mark.parametrize('version', ANGLE_VERSIONS)
def test_flip_matches_polygon_flip(direction, version):
    b = random_rboxes(500, seed=2)
    h, w = 300.0, 400.0
    before = b.clone()
    f = flip_rboxes(b, (h, w), direction, version)
    assert torch.equal(b, before)  # not mutated
    assert rbox_in_range(f, version).all()
    p = rbox2poly(b).view(-1, 4, 2).clone()
    if direction in ('horizontal', 'diagonal'):
        p[..., 0] = w - p[..., 0]
    if direction in ('vertical', 'diagonal'):
        p[..., 1] = h - p[..., 1]
    assert same_vertex_set(rbox2poly(f), p.view(-1, 8), 1e-9)
    # flipping twice is the identity (in the version's representation)
    assert torch.allclose(flip_rboxes(f, (h, w), direction, version), regularize_rboxes(b, version),
                          atol=1e-9)
    with pytest.raises(ValueError, match='direction'):
        flip_rboxes(b, (h, w), 'sideways')


@pytest.mark.parametrize('version', ANGLE_VERSIONS)
def test_rotate_matches_polygon_rotation(version):
    b = random_rboxes(300, seed=3)
    a, c = 0.7, (50.0, 80.0)
    r = rotate_rboxes(b, a, c, version)
    assert rbox_in_range(r, version).all()
    p = rbox2poly(b).view(-1, 4, 2) - torch.tensor(c, dtype=torch.float64)
    rot = torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]], dtype=torch.float64)
    p = p @ rot.T + torch.tensor(c, dtype=torch.float64)
    assert same_vertex_set(rbox2poly(r), p.reshape(-1, 8), 1e-9)
    # the sense of rotation is the sense of t: a point on +x goes to +y
    one = rotate_rboxes(torch.tensor([[10., 0., 4., 2., 0.]]), PI / 2, (0., 0.), None)
    assert torch.allclose(one, torch.tensor([[0., 10., 4., 2., PI / 2]]), atol=1e-6)


def test_cv2_rotation_convention():
    """Boxes follow an image rotated by cv2.getRotationMatrix2D(center, deg) with angle = -deg."""
    deg, center = 30.0, (40.0, 60.0)
    m = cv2.getRotationMatrix2D(center, deg, 1.0)
    b = torch.tensor([[70., 20., 30., 10., 0.2]], dtype=torch.float64)
    pts = rbox2poly(b).view(4, 2).numpy()
    moved = pts @ m[:, :2].T + m[:, 2]
    r = rotate_rboxes(b, -deg * PI / 180, center)
    assert same_vertex_set(rbox2poly(r), torch.from_numpy(moved).reshape(1, 8), 1e-9)


def test_convert_version_and_numpy():
    b = random_rboxes(100, seed=4)
    for src in ANGLE_VERSIONS:
        for dst in ANGLE_VERSIONS:
            x = regularize_rboxes(b, src)
            y = convert_rbox_version(x, src, dst)
            assert torch.allclose(y, regularize_rboxes(b, dst), atol=1e-9)
    out = rbox2poly(b.numpy())
    assert isinstance(out, np.ndarray) and np.allclose(out, rbox2poly(b).numpy())
    assert isinstance(regularize_rboxes(b.numpy(), 'oc'), np.ndarray)


def test_empty_and_batch_shapes():
    for version in ANGLE_VERSIONS:
        assert regularize_rboxes(torch.zeros((0, 5)), version).shape == (0, 5)
        assert poly2rbox(torch.zeros((0, 8)), version).shape == (0, 5)
    assert rbox2poly(torch.zeros((2, 3, 5))).shape == (2, 3, 8)
    assert poly2rbox(torch.rand(2, 3, 8)).shape == (2, 3, 5)
    assert rbox2hbox(torch.zeros((0, 5))).shape == (0, 4)


def test_differentiable_conversions():
    b = random_rboxes(20, seed=5).requires_grad_()
    (rbox2poly(b).sum() + rbox2hbox(b).sum() + regularize_rboxes(b, 'le90').sum()).backward()
    assert torch.isfinite(b.grad).all()
