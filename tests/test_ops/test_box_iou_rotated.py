"""Exact rotated IoU / IoF (rotated_ld.ops.box_iou_rotated).

Reference: shapely 2 (GEOS) on the polygons, with ``grid_size=1e-9`` -- GEOS' floating overlay
returns wrong areas for some exactly collinear edges (e.g. two boxes sharing an edge can come out
as IoU 1), the snap-rounded overlay does not. 12,000 pairs incl. degenerate cases; max abs error
<= 1e-5 in float64 and <= 1e-3 in float32. Also closed forms, properties (hypothesis), chunking,
empty inputs, no mutation, gradcheck. CPU time: ~8 s.
"""
import math

import numpy as np
import pytest
import shapely
import torch
from conftest import DEVICES
from hypothesis import given, settings
from hypothesis import strategies as st

from rotated_ld.ops import box_iou_rotated
from rotated_ld.ops import iou_rotated as iou_mod
from rotated_ld.structures.bbox import rbox2poly

PI = math.pi


def shapely_overlap(b1, b2, mode='iou'):
    """Aligned IoU/IoF of rboxes (K, 5) by shapely, float64 numpy."""
    g1 = shapely.polygons(rbox2poly(b1.double().cpu()).view(-1, 4, 2).numpy())
    g2 = shapely.polygons(rbox2poly(b2.double().cpu()).view(-1, 4, 2).numpy())
    inter = shapely.area(shapely.intersection(g1, g2, grid_size=1e-9))
    a1, a2 = shapely.area(g1), shapely.area(g2)
    den = a1 if mode == 'iof' else a1 + a2 - inter
    return np.where(den > 0, inter / np.where(den > 0, den, 1), 0.0)


def _rand(g, n, lo, hi):
    return torch.rand(n, generator=g, dtype=torch.float64) * (hi - lo) + lo


def degenerate_pairs(n_per_case=1000, seed=0):
    """(b1, b2, names): 12 cases x n_per_case pairs, float64."""
    g = torch.Generator().manual_seed(seed)

    def boxes(n):
        return torch.stack([_rand(g, n, 0, 60), _rand(g, n, 0, 60), _rand(g, n, 0.5, 40),
                            _rand(g, n, 0.5, 40), _rand(g, n, -2 * PI, 2 * PI)], 1)

    n = n_per_case
    cases = {}
    a, b = boxes(n), boxes(n)
    cases['random'] = (a, b)
    a = boxes(n)
    cases['identical'] = (a, a.clone())
    b = a.clone()
    b[:, 4] += PI
    cases['identical_turned_pi'] = (a, b)
    b = a.clone()
    b[:, 4] += PI / 2
    b[:, 2:4] = a[:, [3, 2]]
    cases['identical_swapped_wh'] = (a, b)
    u = torch.stack([torch.cos(a[:, 4]), torch.sin(a[:, 4])], 1)
    b = a.clone()
    b[:, :2] += a[:, 2:3] * u
    cases['shared_edge_touching'] = (a, b)
    b = a.clone()
    b[:, :2] += a[:, 2:3] * u * _rand(g, n, 0.1, 0.9)[:, None]
    cases['shared_lines_overlapping'] = (a, b)
    b = a.clone()
    short = a[:, 2:4].amin(1, keepdim=True) / math.sqrt(2)  # circumradius <= half the short side
    b[:, 2:4] = short * torch.stack([_rand(g, n, 0.1, 0.95), _rand(g, n, 0.1, 0.95)], 1)
    b[:, 4] = _rand(g, n, -PI, PI)
    cases['contained'] = (a, b)
    b = a.clone()  # corner touching corner: b shifted by the full diagonal
    v = torch.stack([-torch.sin(a[:, 4]), torch.cos(a[:, 4])], 1)
    b[:, :2] += a[:, 2:3] * u + a[:, 3:4] * v
    cases['corner_touching'] = (a, b)
    b = boxes(n)
    b[:, 4] = a[:, 4] + PI / 2 * torch.randint(-2, 3, (n,), generator=g).double()
    b[:, :2] = a[:, :2] + _rand(g, n, -10, 10)[:, None]
    cases['parallel_edges'] = (a, b)
    b = boxes(n)
    b[:, :2] = a[:, :2] + _rand(g, n, -5, 5)[:, None]
    b[:, 2] = 100.0
    b[:, 3] = 1.0
    a2 = a.clone()
    a2[:, 2], a2[:, 3] = 50.0, 0.5
    cases['aspect_1_100'] = (a2, b)
    b = boxes(n)
    b[:, :2] = a[:, :2]
    b[:, 2] = 0.0
    cases['zero_width'] = (a, b)
    b = boxes(n)
    b[:, :2] = a[:, :2] + _rand(g, n, -15, 15)[:, None]
    bounds = torch.tensor([-PI / 2, 0.0, PI / 2, -PI / 4, 3 * PI / 4], dtype=torch.float64)
    a3 = a.clone()
    a3[:, 4] = bounds[torch.randint(0, 5, (n,), generator=g)]
    b[:, 4] = bounds[torch.randint(0, 5, (n,), generator=g)]
    cases['version_boundaries'] = (a3, b)
    names = list(cases)
    b1 = torch.cat([cases[k][0] for k in names])
    b2 = torch.cat([cases[k][1] for k in names])
    return b1, b2, names


@pytest.fixture(scope='module')
def pairs():
    b1, b2, names = degenerate_pairs()
    ref = {m: shapely_overlap(b1, b2, m) for m in ('iou', 'iof')}
    return b1, b2, names, ref


@pytest.mark.parametrize('dtype,tol', [(torch.float64, 1e-5), (torch.float32, 1e-3)])
@pytest.mark.parametrize('mode', ['iou', 'iof'])
def test_matches_shapely_on_12k_pairs(pairs, dtype, tol, mode):
    b1, b2, names, ref = pairs
    assert b1.shape[0] >= 10_000
    ours = box_iou_rotated(b1.to(dtype), b2.to(dtype), mode, aligned=True)
    assert ours.dtype == dtype
    # float32 reference: shapely on the float32-rounded boxes
    r = ref[mode] if dtype == torch.float64 else shapely_overlap(b1.to(dtype), b2.to(dtype), mode)
    err = (ours.double().numpy() - r).reshape(len(names), -1)
    worst = {name: float(e.max()) for name, e in zip(names, np.abs(err))}
    assert max(worst.values()) <= tol, worst


def test_degenerate_closed_forms(pairs):
    b1, b2, names, _ = pairs
    iou = box_iou_rotated(b1, b2, aligned=True).view(len(names), -1)
    by = dict(zip(names, iou))
    for k in ('identical', 'identical_turned_pi', 'identical_swapped_wh'):
        assert torch.allclose(by[k], torch.ones_like(by[k]), atol=1e-12), k
    for k in ('shared_edge_touching', 'corner_touching', 'zero_width'):
        assert by[k].abs().max() <= 1e-12, k
    iof = box_iou_rotated(b2, b1, 'iof', aligned=True).view(len(names), -1)
    assert torch.allclose(iof[names.index('contained')], torch.ones(iof.shape[1], dtype=torch.float64))


@pytest.mark.parametrize('device', DEVICES)
def test_closed_form_answers(device):
    sq = torch.tensor([[0., 0., 1., 1., 0.], [0., 0., 1., 1., PI / 4]], device=device)
    octagon = 2 * math.sqrt(2) - 2  # area of the intersection of the two unit squares
    assert torch.allclose(box_iou_rotated(sq[:1], sq[1:]).cpu(),
                          torch.tensor([[octagon / (2 - octagon)]]), atol=1e-6)
    # orthogonal 10x6 boxes with the same centre: intersection 6x6 = 36, union 84
    r = torch.tensor([[5., 5., 10., 6., 0.], [5., 5., 10., 6., PI / 2]], device=device)
    assert torch.allclose(box_iou_rotated(r[:1], r[1:]).cpu(), torch.tensor([[36 / 84]]))
    assert torch.allclose(box_iou_rotated(r[:1], r[1:], 'iof').cpu(), torch.tensor([[36 / 60]]))
    # unit boxes shifted by half a side: intersection 0.5, union 1.5
    s = torch.tensor([[0.5, 0.5, 1., 1., 0.], [1.0, 0.5, 1., 1., 0.]], device=device)
    assert torch.allclose(box_iou_rotated(s[:1], s[1:]).cpu(), torch.tensor([[0.5 / 1.5]]))


@pytest.mark.parametrize('device', DEVICES)
def test_matrix_equals_aligned_and_shapes(device):
    g = torch.Generator().manual_seed(1)
    b1 = torch.cat([torch.rand(70, 2, generator=g) * 100, torch.rand(70, 2, generator=g) * 30 + 1,
                    torch.rand(70, 1, generator=g) * 6], 1).to(device)
    b2 = torch.cat([torch.rand(50, 2, generator=g) * 100, torch.rand(50, 2, generator=g) * 30 + 1,
                    torch.rand(50, 1, generator=g) * 6], 1).to(device)
    m = box_iou_rotated(b1, b2)
    assert m.shape == (70, 50) and m.device == b1.device
    ii, jj = torch.meshgrid(torch.arange(70), torch.arange(50), indexing='ij')
    al = box_iou_rotated(b1[ii.flatten()], b2[jj.flatten()], aligned=True).view(70, 50)
    assert torch.allclose(m, al, atol=1e-6)
    assert (m > 0).any() and (m == 0).any()


def test_chunking_is_invisible(monkeypatch):
    g = torch.Generator().manual_seed(2)
    b1 = torch.cat([torch.rand(90, 2, generator=g) * 60, torch.rand(90, 2, generator=g) * 30 + 1,
                    torch.rand(90, 1, generator=g) * 6], 1).double()
    full = box_iou_rotated(b1, b1[:40])
    monkeypatch.setattr(iou_mod, 'EXACT_CHUNK', 7)
    monkeypatch.setattr(iou_mod, 'PREFILTER_CHUNK', 100)
    assert torch.equal(box_iou_rotated(b1, b1[:40]), full)
    assert torch.allclose(box_iou_rotated(b1, b1, aligned=True), torch.ones(90, dtype=torch.float64))
    # a wide scene: row blocks only test the x-band of columns they can reach
    wide = b1.clone()
    wide[:, 0] = torch.linspace(0, 3000, 90, dtype=torch.float64)[torch.randperm(90, generator=g)]
    ii, jj = torch.meshgrid(torch.arange(90), torch.arange(40), indexing='ij')
    ref = box_iou_rotated(wide[ii.flatten()], wide[:40][jj.flatten()], aligned=True).view(90, 40)
    assert torch.allclose(box_iou_rotated(wide, wide[:40]), ref, atol=1e-12)


@pytest.mark.parametrize('device', DEVICES)
def test_empty_inputs(device):
    e = torch.zeros((0, 5), device=device)
    b = torch.rand(3, 5, device=device) + 1
    assert box_iou_rotated(e, b).shape == (0, 3)
    assert box_iou_rotated(b, e).shape == (3, 0)
    assert box_iou_rotated(e, e, aligned=True).shape == (0,)
    assert box_iou_rotated(e, b).device == b.device


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16, torch.int64])
def test_low_precision_and_integer_inputs(dtype):
    b = torch.tensor([[500., 500., 100., 60., 0.], [500., 500., 100., 60., 1.5707963267948966]])
    b1, b2 = b[:1].to(dtype), b[1:].to(dtype)
    iou = box_iou_rotated(b1, b2)
    assert iou.dtype == (dtype if dtype.is_floating_point else torch.float32)
    assert abs(iou.float().item() - box_iou_rotated(b1.float(), b2.float()).item()) < 1e-2
    mixed = box_iou_rotated(b[:1].double(), b[1:].float())
    assert mixed.dtype == torch.float64


def test_non_finite_box_does_not_poison_others():
    b = torch.tensor([[10., 10., 8., 4., 0.3], [11., 10., 8., 4., 0.5], [500., 5., 8., 4., 0.1]])
    ref = box_iou_rotated(b, b)
    bad = torch.cat([b, torch.tensor([[float('nan'), 0., 1., 1., 0.], [0., 0., float('inf'), 1., 0.]])])
    m = box_iou_rotated(bad, bad)
    assert torch.equal(m[:3, :3], ref)
    assert (m[3:] == 0).all() and (m[:, 3:] == 0).all()


def test_bad_arguments():
    b = torch.rand(3, 5)
    with pytest.raises(ValueError, match='mode'):
        box_iou_rotated(b, b, mode='giou')
    with pytest.raises(ValueError, match='aligned'):
        box_iou_rotated(b, b[:2], aligned=True)
    with pytest.raises(ValueError, match=r'\(N, 5\)'):
        box_iou_rotated(b[:, :4], b)


def test_inputs_not_mutated():
    b1 = torch.rand(20, 5) * 10
    b2 = torch.rand(30, 5) * 10
    c1, c2 = b1.clone(), b2.clone()
    box_iou_rotated(b1, b2)
    box_iou_rotated(b1, b2[:20], 'iof', aligned=True)
    assert torch.equal(b1, c1) and torch.equal(b2, c2)


# sizes are 0 or >= 1e-2: the reference snaps to a 1e-9 grid (relative error ~1e-9 / size)
size = st.one_of(st.just(0.0), st.floats(1e-2, 60))
box_strategy = st.tuples(st.floats(-50, 50), st.floats(-50, 50), size, size, st.floats(-7, 7))


@settings(max_examples=150, deadline=None)
@given(a=box_strategy, b=box_strategy)
def test_properties(a, b):
    b1 = torch.tensor([a], dtype=torch.float64)
    b2 = torch.tensor([b], dtype=torch.float64)
    ab = box_iou_rotated(b1, b2)
    ba = box_iou_rotated(b2, b1)
    assert 0.0 <= ab.item() <= 1.0
    assert abs(ab.item() - ba.item()) <= 1e-7
    assert abs(ab.item() - float(shapely_overlap(b1, b2)[0])) <= 1e-6
    iof = box_iou_rotated(b1, b2, 'iof').item()
    assert 0.0 <= iof <= 1.0 and iof >= ab.item() - 1e-12
    # invariance under a common translation and rotation
    ang, shift = 0.37, torch.tensor([13.0, -7.0], dtype=torch.float64)
    rot = torch.tensor([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]], dtype=torch.float64)

    def move(x):
        y = x.clone()
        y[:, :2] = x[:, :2] @ rot.T + shift
        y[:, 4] += ang
        return y

    assert abs(box_iou_rotated(move(b1), move(b2)).item() - ab.item()) <= 1e-7


@pytest.mark.parametrize('mode', ['iou', 'iof'])
def test_gradcheck_generic(mode):
    b1 = torch.tensor([[0., 0., 10., 6., 0.3], [3., 1., 8., 4., -0.7], [1., 1., 3., 3., 0.1],
                       [2., 2., 1., 1., 0.2]], dtype=torch.float64, requires_grad=True)
    b2 = torch.tensor([[1., 2., 7., 5., 1.1], [2., -1., 9., 3., 0.2], [0.5, 0.3, 6., 2., -1.3]],
                      dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, y: box_iou_rotated(x, y, mode), (b1, b2))
    assert torch.autograd.gradcheck(lambda x, y: box_iou_rotated(x, y[:1].expand(4, 5), mode, aligned=True),
                                    (b1, b2))


def test_gradcheck_parallel_edges():
    """Pairs with parallel edges take the general (tie-rule) path; same function, same gradients."""
    b1 = torch.tensor([[0., 0., 10., 6., 0.3], [3., 1., 8., 4., 0.0], [1., 1., 3., 2., 0.1]],
                      dtype=torch.float64, requires_grad=True)
    b2 = torch.tensor([[1., 2., 7., 5., 0.3 + math.pi / 2], [2., -1., 9., 3., 0.0], [0.5, 0.3, 6., 2., 0.1]],
                      dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, y: box_iou_rotated(x, y, aligned=True), (b1, b2))
    assert torch.autograd.gradcheck(lambda x, y: box_iou_rotated(x, y), (b1, b2))


@pytest.mark.parametrize('device', DEVICES)
def test_gradients_finite_on_degenerate(pairs, device):
    b1, b2, _, _ = pairs
    x = b1[::7].clone().to(device).requires_grad_()
    y = b2[::7].clone().to(device).requires_grad_()
    box_iou_rotated(x, y, aligned=True).sum().backward()
    assert torch.isfinite(x.grad).all() and torch.isfinite(y.grad).all()
    # contained box: IoU = |b|/|a|, so d IoU / d w_b = h_b / |a|
    a = torch.tensor([[0., 0., 10., 10., 0.3]], dtype=torch.float64, device=device)
    b = torch.tensor([[1., 1., 2., 3., 1.0]], dtype=torch.float64, device=device, requires_grad=True)
    box_iou_rotated(a, b).sum().backward()
    assert torch.allclose(b.grad[0, 2], torch.tensor(3 / 100, dtype=torch.float64, device=device))
