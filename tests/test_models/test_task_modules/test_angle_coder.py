"""Angle coders (circular bins, plain scalar) and the distance-angle point coder.

Hand cases for the circular DFL target and decoding at the period boundary; encode → decode
round trips for every angle version. CPU, well under a second.
"""
import math

import pytest
import torch

from rotated_ld.models.task_modules.coders.angle_coder import (
    CircularAngleCoder,
    PlainAngleCoder,
    internal_angle_version,
)
from rotated_ld.models.task_modules.coders.distance_angle_coder import DistanceAnglePointCoder

PI = math.pi


@pytest.mark.parametrize('version,theta_min', [('le90', -PI / 2), ('le135', -PI / 4), ('oc', -PI / 2)])
def test_bin_centres_cover_one_period(version, theta_min):
    coder = CircularAngleCoder(version, angle_bins=36)
    c = coder.bin_centers(dtype=torch.float64)
    assert c.shape == (36,)
    assert c[0].item() == pytest.approx(theta_min + PI / 72)
    assert c[-1].item() == pytest.approx(theta_min + PI - PI / 72)
    assert coder.internal_version == internal_angle_version(version)


def test_target_inside_a_bin_pair():
    coder = CircularAngleCoder('le90', angle_bins=36)
    w = PI / 36
    # a quarter of the way from centre 3 to centre 4
    theta = torch.tensor([-PI / 2 + 3.75 * w])
    lo, hi, wl, wh = coder.encode(theta)
    assert (lo.item(), hi.item()) == (3, 4)
    assert wl.item() == pytest.approx(0.75, abs=1e-5) and wh.item() == pytest.approx(0.25, abs=1e-5)
    # exactly on a centre: all mass on that bin
    lo, hi, wl, wh = coder.encode(torch.tensor([-PI / 2 + 10.5 * w]))
    assert lo.item() == 10 and wl.item() == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize('version', ['le90', 'le135'])
def test_target_exactly_at_the_period_boundary(version):
    coder = CircularAngleCoder(version, angle_bins=36)
    for theta in (coder.theta_min, coder.theta_min + PI):  # the same angle on the circle
        lo, hi, wl, wh = coder.encode(torch.tensor([theta]))
        assert (lo.item(), hi.item()) == (35, 0)
        assert wl.item() == pytest.approx(0.5, abs=1e-5) and wh.item() == pytest.approx(0.5, abs=1e-5)
    # just past the boundary: mostly on the first bin, rest on the LAST (neighbours)
    lo, hi, wl, wh = coder.encode(torch.tensor([coder.theta_min + 0.25 * coder.bin_width]))
    assert (lo.item(), hi.item()) == (35, 0)
    assert wh.item() == pytest.approx(0.75, abs=1e-5)
    # just before the boundary (last bin's outer half)
    lo, hi, wl, wh = coder.encode(torch.tensor([coder.theta_min + PI - 0.25 * coder.bin_width]))
    assert (lo.item(), hi.item()) == (35, 0)
    assert wl.item() == pytest.approx(0.75, abs=1e-5)


def test_soft_target_is_a_distribution():
    coder = CircularAngleCoder('le90', angle_bins=36)
    theta = torch.rand(100) * 4 * PI - 2 * PI
    t = coder.encode_soft(theta)
    assert torch.allclose(t.sum(-1), torch.ones(100))
    assert ((t > 0).sum(-1) <= 2).all()


@pytest.mark.parametrize('version', ['le90', 'le135', 'oc'])
def test_mass_on_first_and_last_bin_decodes_at_the_boundary(version):
    coder = CircularAngleCoder(version, angle_bins=36)
    logits = torch.full((3, 36), -30.0)
    logits[0, [0, 35]] = 0.0  # equal mass: exactly the boundary
    logits[1, 0], logits[1, 35] = 0.0, math.log(1 / 3)  # more on the first bin: just above θ_min
    logits[2, 0], logits[2, 35] = math.log(1 / 3), 0.0  # more on the last bin: just below θ_min + P
    out = coder.decode(logits)
    tmin = coder.theta_min
    # equal mass lands on the boundary (either representation), never mid-range
    d0 = min(abs(out[0].item() - tmin), abs(out[0].item() - tmin - PI))
    assert d0 < 1e-4
    assert tmin < out[1].item() < tmin + coder.bin_width / 2
    assert tmin + PI - coder.bin_width / 2 < out[2].item() < tmin + PI
    assert ((out >= tmin) & (out < tmin + PI)).all()
    # a plain expectation would have given mid-range
    expectation = (logits.softmax(-1) * coder.bin_centers()).sum(-1)
    assert abs(expectation[0].item() - (tmin + PI / 2)) < 1e-3


def test_decode_one_hot_gives_bin_centre_and_soft_target_round_trip():
    coder = CircularAngleCoder('le135', angle_bins=36)
    logits = torch.full((36, 36), -50.0)
    logits[torch.arange(36), torch.arange(36)] = 0.0
    assert torch.allclose(coder.decode(logits), coder.bin_centers(), atol=1e-5)
    theta = coder.theta_min + torch.rand(200, dtype=torch.float64) * PI
    prob = coder.encode_soft(theta).double()
    dec = coder.decode_prob(prob)
    diff = torch.remainder(dec - theta + PI / 2, PI) - PI / 2
    # the circular mean of a two-bin split is within 0.01° of the linear split position
    assert diff.abs().max() < 2e-4


def test_decode_is_equivariant_to_cyclic_shifts():
    coder = CircularAngleCoder('le90', angle_bins=36)
    logits = torch.randn(5, 36) * 3
    a0 = coder.decode(logits)
    a1 = coder.decode(torch.roll(logits, 1, dims=-1))
    diff = torch.remainder(a1 - a0 - coder.bin_width + PI / 2, PI) - PI / 2
    assert diff.abs().max() < 1e-5


def test_plain_coder():
    coder = PlainAngleCoder('le90')
    assert not coder.is_distribution and coder.encode_size == 1
    pred = torch.tensor([[0.3], [2.0], [-2.0]])
    assert torch.allclose(coder.decode(pred), pred[:, 0])
    w = coder.decode(pred, wrap=True)
    assert ((w >= -PI / 2) & (w < PI / 2)).all()
    assert torch.allclose(w, torch.tensor([0.3, 2.0 - PI, -2.0 + PI]))


def test_bad_version_is_loud():
    with pytest.raises(ValueError, match='angle_version'):
        CircularAngleCoder('le45')


# --------------------------------------------------------------------- distance-angle coder

def test_distance_angle_known_answer():
    coder = DistanceAnglePointCoder()
    pts = torch.tensor([[10.0, 10.0]])
    box = torch.tensor([[10.0, 12.0, 8.0, 4.0, PI / 2]])  # w runs along +y
    # in the box frame (x' = +y, y' = −x) the point sits at q = (−2, 0): l = 2, r = 6, t = b = 2
    enc = coder.encode(pts, box)
    assert torch.allclose(enc, torch.tensor([[2.0, 2.0, 6.0, 2.0, PI / 2]]), atol=1e-5)


@pytest.mark.parametrize('version', ['le90', 'le135', 'oc'])
def test_distance_angle_round_trip(version, seed):
    coder = DistanceAnglePointCoder()
    n = 500
    ctr = torch.rand(n, 2) * 100
    wh = torch.rand(n, 2) * 30 + 1
    lo = {'le90': -PI / 2, 'le135': -PI / 4, 'oc': -PI / 2}[version]
    span = PI / 2 if version == 'oc' else PI
    theta = lo + torch.rand(n) * span
    theta[:4] = torch.tensor([lo, lo + span - 1e-6, 0.0, lo + span / 2])  # wrap points
    boxes = torch.cat([ctr, wh, theta[:, None]], -1).double()
    pts = (ctr + (torch.rand(n, 2) - 0.5) * wh.min(-1, keepdim=True).values * 0.6).double()
    enc = coder.encode(pts, boxes)
    assert (enc[:, :4] > 0).all()  # points inside the box ⇒ all distances positive
    dec = coder.decode(pts, enc)
    assert torch.allclose(dec, boxes, atol=1e-9)


def test_distance_angle_reduces_to_horizontal_at_zero():
    coder = DistanceAnglePointCoder()
    pts = torch.rand(50, 2) * 50
    x1y1 = torch.rand(50, 2) * 40
    x2y2 = x1y1 + torch.rand(50, 2) * 20 + 1
    boxes = torch.cat([(x1y1 + x2y2) / 2, x2y2 - x1y1, torch.zeros(50, 1)], -1)
    enc = coder.encode(pts, boxes)
    ref = torch.cat([pts - x1y1, x2y2 - pts], -1)  # (l, t, r, b)
    assert torch.allclose(enc[:, :4], ref, atol=1e-5)
    clamped = coder.encode(pts, boxes, max_dis=16)
    assert clamped[:, :4].min() >= 0 and clamped[:, :4].max() <= 16 - 0.1 + 1e-6
