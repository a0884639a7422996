"""GWD / KLD Gaussian losses vs a direct numpy evaluation of the published formulas (matrix
square roots by eigen-decomposition, explicit inverses), zero for identical boxes, symmetry where
the formula is symmetric, weights / avg_factor, gradients. CPU, about a second."""
import math

import numpy as np
import pytest
import torch

from rotated_ld.models.losses.gaussian_loss import GDLoss, GDLossV1, rbox2gaussian
from rotated_ld.registry import MODELS


def _np_gauss(b):
    cx, cy, w, h, t = b
    R = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    return np.array([cx, cy]), R @ np.diag([w * w / 4, h * h / 4]) @ R.T


def _sqrtm(a):
    vals, vecs = np.linalg.eigh((a + a.T) / 2)
    return vecs @ np.diag(np.sqrt(np.clip(vals, 0, None))) @ vecs.T


def _np_w2sq(p, t):
    """Squared 2-Wasserstein distance of two Gaussians (general formula, no 2×2 shortcut)."""
    mp, sp = _np_gauss(p)
    mt, st = _np_gauss(t)
    rt = _sqrtm(st)
    return float(np.sum((mp - mt) ** 2) + np.trace(sp + st - 2 * _sqrtm(rt @ sp @ rt)))


def _np_kl(p_from, p_to):
    """KL(N_from ‖ N_to)."""
    m0, s0 = _np_gauss(p_from)
    m1, s1 = _np_gauss(p_to)
    inv1 = np.linalg.inv(s1)
    d = m1 - m0
    log_det_ratio = math.log(np.linalg.det(s1) / np.linalg.det(s0))
    return float(0.5 * (np.trace(inv1 @ s0) + d @ inv1 @ d - 2 + log_det_ratio))


def _np_gdloss(kind, p, t, fun='log1p', tau=0.0):
    if kind == 'gwd':
        d = math.sqrt(max(_np_w2sq(p, t), 0.0))
        _, sp = _np_gauss(p)
        _, st = _np_gauss(t)
        d = d / (2 * (np.linalg.det(sp) * np.linalg.det(st)) ** 0.125)
    elif kind == 'kld':
        d = math.sqrt(max(_np_kl(t, p), 0.0))  # mmrotate GDLoss: KL(target ‖ pred)
    else:
        d = math.sqrt(max(0.5 * (_np_kl(t, p) + _np_kl(p, t)), 0.0))
    f = {'log1p': math.log1p, 'sqrt': math.sqrt, 'none': lambda x: x}[fun](d)
    return 1 - 1 / (tau + f) if tau >= 1 else f


def _np_v1(kind, p, t, fun, tau):
    D = 2 * _np_kl(p, t) if kind == 'kld' else _np_w2sq(p, t)
    D = max(D, 1e-6)
    f = math.sqrt(D) if fun == 'sqrt' else math.log1p(D)
    return 1 - 1 / (tau + f)


def _boxes(n, seed):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g, dtype=torch.float64) * 50
    wh = torch.rand(n, 2, generator=g, dtype=torch.float64) * 30 + 2
    t = (torch.rand(n, 1, generator=g, dtype=torch.float64) - 0.5) * math.pi
    return torch.cat([xy, wh, t], 1)


def test_rbox2gaussian_known():
    mu, sigma = rbox2gaussian(torch.tensor([[1., 2., 4., 2., math.pi / 2]]))
    assert torch.allclose(mu, torch.tensor([[1., 2.]]))
    assert torch.allclose(sigma, torch.tensor([[[1., 0.], [0., 4.]]]), atol=1e-6)


@pytest.mark.parametrize('kind,fun,tau', [('gwd', 'log1p', 0.0), ('gwd', 'sqrt', 1.0), ('gwd', 'none', 2.0),
                                          ('kld', 'log1p', 0.0), ('kld', 'log1p', 1.0), ('jd', 'sqrt', 0.0)])
def test_gdloss_matches_numpy(kind, fun, tau):
    p, t = _boxes(16, 0), _boxes(16, 1)
    t[:4] = p[:4] + torch.tensor([0.5, -0.3, 1.0, 0.5, 0.1], dtype=torch.float64)  # near pairs too
    got = GDLoss(kind, fun=fun, tau=tau, reduction='none')(p, t)
    expect = torch.tensor([_np_gdloss(kind, a.tolist(), b.tolist(), fun, tau) for a, b in zip(p, t)],
                          dtype=torch.float64)
    assert torch.allclose(got.double(), expect, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('kind,fun,tau', [('kld', 'log1p', 1.0), ('kld', 'sqrt', 1.0), ('gwd', 'sqrt', 2.0),
                                          ('gwd', 'log1p', 1.0)])
def test_gdloss_v1_matches_numpy(kind, fun, tau):
    p, t = _boxes(16, 2), _boxes(16, 3)
    got = GDLossV1(kind, fun=fun, tau=tau, reduction='none')(p, t)
    expect = torch.tensor([_np_v1(kind, a.tolist(), b.tolist(), fun, tau) for a, b in zip(p, t)],
                          dtype=torch.float64)
    assert torch.allclose(got.double(), expect, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('kind', ['gwd', 'kld', 'jd'])
def test_zero_for_identical_and_equivalent_boxes(kind):
    b = _boxes(8, 4)
    assert GDLoss(kind, reduction='none')(b, b).abs().max() < 1e-3
    # the same box described as (h, w, t + π/2) is the same Gaussian
    alt = torch.cat([b[:, :2], b[:, 3:4], b[:, 2:3], b[:, 4:] + math.pi / 2], 1)
    assert GDLoss(kind, reduction='none')(b, alt).abs().max() < 1e-3
    # v1 clamps the distance at 1e-6: log1p/tau 1 gives ~1e-6
    assert GDLossV1('kld', fun='log1p', tau=1.0, reduction='none')(b, alt).max() < 1e-5


def test_symmetry():
    p, t = _boxes(16, 5), _boxes(16, 6)
    for loss in (GDLoss('gwd', reduction='none'), GDLoss('jd', reduction='none'),
                 GDLossV1('gwd', reduction='none')):
        assert torch.allclose(loss(p, t), loss(t, p), rtol=1e-5, atol=1e-6)
    kld = GDLoss('kld', reduction='none')
    assert not torch.allclose(kld(p, t), kld(t, p))  # KL is not symmetric


def test_weights_avg_factor_and_grad():
    p, t = _boxes(6, 7).float(), _boxes(6, 8).float()
    p[3:] = 0  # zero-size rows: must be skipped through weight 0, not produce NaN
    p.requires_grad_(True)
    loss = MODELS.build(dict(type='GDLoss_v1', loss_type='kld', fun='log1p', tau=1.0, loss_weight=2.0))
    w = torch.tensor([1., 1., 0.5, 0., 0., 0.])
    out = loss(p, t, weight=w[:, None].expand(6, 5), avg_factor=4.0)
    per = GDLossV1('kld', fun='log1p', tau=1.0, reduction='none')(p[:3].detach(), t[:3])
    assert torch.allclose(out, 2.0 * (per * w[:3]).sum() / 4.0, rtol=1e-5)
    out.backward()
    assert torch.isfinite(p.grad).all() and p.grad[:3].abs().sum() > 0 and p.grad[3:].abs().sum() == 0
    assert GDLoss('gwd')(p, t, weight=torch.zeros(6)).item() == 0.0
    with pytest.raises(ValueError, match='loss_type'):
        GDLoss('kfiou')
