"""DeltaXYWHAOBBoxCoder and DistributionDelta: encode → decode identity for every angle version
(random boxes, angles at the wrap points), hand-computed deltas, expectation on fixed supports.
CPU, well under a second."""
import math

import pytest
import torch

from rotated_ld.models.task_modules.coders.delta_xywha_coder import DeltaXYWHAOBBoxCoder, wrap_delta_angle
from rotated_ld.models.task_modules.coders.distribution_delta import DistributionDelta

RANGES = {'oc': (-math.pi / 2, 0.0), 'le90': (-math.pi / 2, math.pi / 2),
          'le135': (-math.pi / 4, 3 * math.pi / 4)}
PERIOD = {'oc': math.pi / 2, 'le90': math.pi, 'le135': math.pi}


def _random_gts(version, n, gen):
    lo, hi = RANGES[version]
    cxy = torch.rand(n, 2, generator=gen, dtype=torch.float64) * 500
    wh = torch.rand(n, 2, generator=gen, dtype=torch.float64) * 200 + 2
    if version != 'oc':
        wh = wh.sort(dim=1, descending=True).values  # w ≥ h
    t = lo + torch.rand(n, generator=gen, dtype=torch.float64) * (hi - lo)
    # the wrap points: the range's lower end exactly and just below its upper end
    t[:4] = torch.tensor([lo, lo + 1e-9, hi - 1e-9, (lo + hi) / 2], dtype=torch.float64)
    return torch.cat([cxy, wh, t[:, None]], 1)


def _random_priors(n, gen, rotated):
    cxy = torch.rand(n, 2, generator=gen, dtype=torch.float64) * 500
    wh = torch.rand(n, 2, generator=gen, dtype=torch.float64) * 100 + 4
    t = (torch.rand(n, generator=gen, dtype=torch.float64) - 0.5) * math.pi if rotated \
        else torch.zeros(n, dtype=torch.float64)
    return torch.cat([cxy, wh, t[:, None]], 1)


def _assert_same_box(dec, gt, version):
    assert torch.allclose(dec[:, :4], gt[:, :4], rtol=1e-9, atol=1e-7)
    # same angle modulo the version's period (−π/2 and π/2 are one le90 box); stays in range
    diff = torch.remainder(dec[:, 4] - gt[:, 4] + 1e-6, PERIOD[version]) - 1e-6
    assert diff.abs().max() < 1e-7
    lo, hi = RANGES[version]
    assert (dec[:, 4] >= lo - 1e-12).all() and (dec[:, 4] < hi + 1e-12).all()


@pytest.mark.parametrize('version', ['oc', 'le90', 'le135'])
@pytest.mark.parametrize('norm_factor', [None, 1.0])
@pytest.mark.parametrize('proj_xy', [False, True])
def test_encode_decode_identity(version, norm_factor, proj_xy):
    gen = torch.Generator().manual_seed(0)
    gts = _random_gts(version, 256, gen)
    for rotated in (False, True):
        priors = _random_priors(256, gen, rotated and version != 'oc')
        coder = DeltaXYWHAOBBoxCoder(angle_version=version, norm_factor=norm_factor, proj_xy=proj_xy,
                                     wh_ratio_clip=1e-6)
        _assert_same_box(coder.decode(priors, coder.encode(priors, gts)), gts, version)


@pytest.mark.parametrize('version', ['le90', 'le135'])
def test_edge_swap_identity_and_small_turn(version):
    gen = torch.Generator().manual_seed(1)
    gts = _random_gts(version, 256, gen)
    priors = _random_priors(256, gen, rotated=False)
    coder = DeltaXYWHAOBBoxCoder(angle_version=version, edge_swap=True, proj_xy=True,
                                 wh_ratio_clip=1e-6)
    deltas = coder.encode(priors, gts)
    # the swapped description needs a turn of at most π/4 (+ rounding)
    assert deltas[:, 4].abs().max() <= math.pi / 4 + 1e-9
    _assert_same_box(coder.decode(priors, deltas), gts, version)


def test_hand_computed_deltas_and_xyxy_priors():
    coder = DeltaXYWHAOBBoxCoder(angle_version='le90', norm_factor=1.0, proj_xy=True)
    prior_xyxy = torch.tensor([[0., 0., 8., 4.]])  # = (4, 2, 8, 4, 0)
    gt = torch.tensor([[6., 3., 16., 2., math.pi / 4]])
    d = coder.encode(prior_xyxy, gt)[0]
    expect = torch.tensor([2 / 8, 1 / 4, math.log(2.), math.log(0.5), 0.25])
    assert torch.allclose(d, expect, atol=1e-6)
    # proj_xy on a prior turned by π/2: the x offset becomes the prior's −y direction
    prior = torch.tensor([[0., 0., 8., 4., math.pi / 2]])
    gt = torch.tensor([[0., 4., 8., 4., math.pi / 2]])
    d = coder.encode(prior, gt)[0]
    assert torch.allclose(d, torch.tensor([0.5, 0., 0., 0., 0.]), atol=1e-6)


def test_means_stds_and_wrap():
    coder = DeltaXYWHAOBBoxCoder(angle_version='le135', target_means=(0.1, 0, 0, 0, 0),
                                 target_stds=(0.5, 0.5, 1, 1, 2))
    priors = torch.tensor([[10., 10., 4., 4., 0.]])
    gts = torch.tensor([[11., 12., 4., 4., 0.5]])
    d = coder.encode(priors, gts)
    assert torch.allclose(d[0, :2], torch.tensor([(0.25 - 0.1) / 0.5, 0.5 / 0.5]))
    assert torch.allclose(coder.decode(priors, d), gts, atol=1e-6)
    a = torch.tensor([-math.pi / 4, 3 * math.pi / 4, -math.pi / 4 - 1e-3, 2.0 * math.pi])
    w = wrap_delta_angle(a, 'le135')
    assert torch.allclose(w, torch.tensor([-math.pi / 4, -math.pi / 4, 3 * math.pi / 4 - 1e-3, 0.]),
                          atol=1e-6)
    assert torch.equal(wrap_delta_angle(a, 'oc'), a)
    with pytest.raises(ValueError, match='angle_version'):
        DeltaXYWHAOBBoxCoder(angle_version='le45')


def test_distribution_delta_expectation():
    dd = DistributionDelta(reg_max=8)
    assert dd.supports.shape == (5, 9)
    assert torch.allclose(dd.supports[0], torch.linspace(-2, 2, 9))
    assert torch.allclose(dd.supports[4], torch.linspace(-5, 2, 9))
    # uniform → midpoints; one-hot (large logit) on bin k → support value k
    assert torch.allclose(dd(torch.zeros(2, 45)), torch.tensor([0., 0., 0., 0., -1.5]).expand(2, 5),
                          atol=1e-6)
    logits = torch.full((1, 5, 9), -1e4)
    for j, k in enumerate([0, 8, 3, 5, 7]):
        logits[0, j, k] = 0.
    expect = torch.tensor([[-2., 2., -0.5, 0.5, -5 + 7 * 7 / 8]])
    assert torch.allclose(dd(logits.reshape(1, 45)), expect, atol=1e-5)
    assert dd.rows(torch.zeros(3, 7, 45)).shape == (3, 7, 5, 9)
    assert 'supports' not in dd.state_dict()
