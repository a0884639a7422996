"""Distillation pieces (rotated_ld.models.distillers) against independent references.

KL vs torch.distributions and numpy, cyclic-shift invariance, gradient flow (student only), VLR vs a
brute-force python loop, imitation masks on hand cases, LDDistiller reductions. CPU: ~2 s.
"""
import math

import numpy as np
import pytest
import torch

from rotated_ld.models.distillers import (
    LDDistiller,
    VLRRegion,
    atss_thresholds,
    finegrained_mask,
    gibox_mask,
    imitation_mask,
    inside_gt_mask,
    level_mean,
    quality_weights,
)
from rotated_ld.models.losses import distribution_kl
from rotated_ld.models.losses.im_loss import IMLoss
from rotated_ld.models.losses.kd_loss import KnowledgeDistillationKLDivLoss
from tests.conftest import DEVICES


# ------------------------------------------------------------------------------------ KL
@pytest.mark.parametrize('T', [1.0, 2.0, 10.0])
@pytest.mark.parametrize('device', DEVICES)
def test_kl_matches_torch_distributions(T, device, seed):
    s = torch.randn(40, 17, device=device) * 3
    t = torch.randn(40, 17, device=device) * 3
    ref = torch.distributions.kl_divergence(
        torch.distributions.Categorical(logits=t / T),
        torch.distributions.Categorical(logits=s / T)) * T * T
    torch.testing.assert_close(distribution_kl(s, t, T, 'sum'), ref, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(distribution_kl(s, t, T, 'mean'), ref / 17, rtol=1e-5, atol=1e-6)


def test_kl_matches_numpy():
    rng = np.random.default_rng(0)
    s, t, T = rng.normal(size=(7, 5)) * 4, rng.normal(size=(7, 5)) * 4, 3.0

    def softmax(z):
        e = np.exp(z - z.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    ps, pt = softmax(s / T), softmax(t / T)
    ref = T ** 2 * (pt * np.log(pt / ps)).sum(1)
    out = distribution_kl(torch.tensor(s), torch.tensor(t), T, 'sum')
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5)
    assert torch.all(distribution_kl(torch.tensor(s), torch.tensor(s), T) < 1e-6)


def test_kl_cyclic_shift_invariant(seed):
    """The angle LD relies on it: rolling both distributions by the same bins changes nothing."""
    s, t = torch.randn(10, 36), torch.randn(10, 36)
    base = distribution_kl(s, t, 5.0, 'sum')
    for k in (1, 7, 35):
        torch.testing.assert_close(distribution_kl(s.roll(k, 1), t.roll(k, 1), 5.0, 'sum'), base)


def test_kl_fp16_inputs_give_fp32():
    s, t = torch.randn(4, 17).half(), torch.randn(4, 17).half()
    out = distribution_kl(s, t, 10.0)
    assert out.dtype == torch.float32 and torch.isfinite(out).all()


def test_kl_gradient_reaches_student_never_teacher(seed):
    s = torch.randn(6, 17, requires_grad=True)
    t = torch.randn(6, 17, requires_grad=True)
    distribution_kl(s, t, 10.0).sum().backward()
    assert s.grad is not None and s.grad.abs().sum() > 0
    assert t.grad is None


def test_kl_bad_args():
    with pytest.raises(ValueError, match='bin_reduction'):
        distribution_kl(torch.zeros(1, 2), torch.zeros(1, 2), 1.0, 'max')
    with pytest.raises(ValueError, match='share reg_max'):
        distribution_kl(torch.zeros(1, 2), torch.zeros(1, 3), 1.0)
    with pytest.raises(ValueError, match='T='):
        KnowledgeDistillationKLDivLoss(T=0.5)


def test_kd_loss_module_weight_and_avg_factor(seed):
    s, t, w = torch.randn(8, 17), torch.randn(8, 17), torch.rand(8)
    loss = KnowledgeDistillationKLDivLoss(loss_weight=0.25, T=10)
    per_row = distribution_kl(s, t, 10.0, 'mean')
    torch.testing.assert_close(loss(s, t, weight=w, avg_factor=4.0), 0.25 * (per_row * w).sum() / 4)
    torch.testing.assert_close(loss(s, t), 0.25 * per_row.mean())
    assert loss(s, t, reduction_override='none').shape == (8,)


def test_im_loss(seed):
    s, t = torch.randn(5, 8, requires_grad=True), torch.randn(5, 8, requires_grad=True)
    out = IMLoss(loss_weight=2.0)(s, t)
    torch.testing.assert_close(out, 2.0 * ((s - t) ** 2).mean())
    out.backward()
    assert t.grad is None and s.grad is not None
    assert IMLoss()(s[:0], t[:0]).item() == 0


def test_level_mean():
    v = torch.tensor([1., 3., 10., 4.])
    lv = torch.tensor([0, 0, 2, 2])
    torch.testing.assert_close(level_mean(v, lv, 3), torch.tensor(2. + 7.))


# ------------------------------------------------------------------------------------ VLR
def _brute_vlr(priors, level_sizes, gts, alpha, mode, pos):
    """Pair-by-pair python loop, written from the spec (docs/method.md §3)."""
    A, G = len(priors), len(gts)

    def stats(a, g):
        ix = max(0.0, min(a[2], g[2]) - max(a[0], g[0]))
        iy = max(0.0, min(a[3], g[3]) - max(a[1], g[1]))
        inter = ix * iy
        aa = (a[2] - a[0]) * (a[3] - a[1])
        ag = (g[2] - g[0]) * (g[3] - g[1])
        iou = inter / (aa + ag - inter)
        cw = max(a[2], g[2]) - min(a[0], g[0])
        ch = max(a[3], g[3]) - min(a[1], g[1])
        rho2 = ((a[0] + a[2]) / 2 - (g[0] + g[2]) / 2) ** 2 + ((a[1] + a[3]) / 2 - (g[1] + g[3]) / 2) ** 2
        d = (iou if mode == 'diou' else inter / aa) - rho2 / (cw * cw + ch * ch + 1e-6)
        dist = math.hypot((a[0] + a[2]) / 2 - (g[0] + g[2]) / 2, (a[1] + a[3]) / 2 - (g[1] + g[3]) / 2)
        return iou, d, dist

    M = [[stats(priors[i], gts[j]) for j in range(G)] for i in range(A)]
    out = [0.0] * A
    for j in range(G):
        cand, start = [], 0
        for n in level_sizes:
            order = sorted(range(start, start + n), key=lambda i: M[i][j][2])[:9]
            cand += order
            start += n
        ious = [M[i][j][0] for i in cand]
        mean = sum(ious) / len(ious)
        std = math.sqrt(sum((x - mean) ** 2 for x in ious) / (len(ious) - 1))
        thr = mean + std
        for i in range(A):
            iou, d, _ = M[i][j]
            if alpha * thr <= d < thr and not pos[i]:
                out[i] = max(out[i], iou)
    return out


def _grid_priors(sizes, strides):
    out = []
    for (h, w), s in zip(sizes, strides):
        ys, xs = torch.meshgrid(torch.arange(h) * s + s / 2, torch.arange(w) * s + s / 2,
                                indexing='ij')
        c = torch.stack([xs.flatten(), ys.flatten()], 1).double()
        out.append(torch.cat([c - 4 * s, c + 4 * s], 1))   # side 8·stride
    return torch.cat(out)


@pytest.mark.parametrize('mode', ['diou', 'iof_diou'])
@pytest.mark.parametrize('exclude', [False, True])
def test_vlr_matches_brute_force(mode, exclude):
    g = torch.Generator().manual_seed(3)
    sizes, strides = [(8, 8), (4, 4)], [8, 16]
    priors = _grid_priors(sizes, strides)
    A = len(priors)
    xy = torch.rand(5, 2, generator=g, dtype=torch.float64) * 48
    wh = torch.rand(5, 2, generator=g, dtype=torch.float64) * 40 + 6
    gts = torch.cat([xy, xy + wh], 1)
    pos = torch.rand(A, generator=g) < 0.1
    vlr = VLRRegion(overlap=mode, exclude_pos=exclude)
    out = vlr(priors, [64, 16], gts, pos)
    ref = _brute_vlr(priors.tolist(), [64, 16], gts.tolist(), 0.25, mode,
                     pos.tolist() if exclude else [False] * A)
    torch.testing.assert_close(out.double(), torch.tensor(ref, dtype=torch.float64),
                               rtol=1e-5, atol=1e-6)
    assert (out > 0).any()


def test_vlr_empty_and_rotated_equals_horizontal_at_angle_zero():
    priors = _grid_priors([(4, 4)], [8]).float()
    assert VLRRegion()(priors, [16], torch.zeros(0, 4)).shape == (16,)
    assert VLRRegion(box_type='rbox')(priors, [16], torch.zeros(0, 5)).shape == (16,)
    # an angle-0 rbox is the same box as its xyxy: the rotated overlaps (polygon clipping) must give
    # the horizontal path's VLR (closed-form box algebra)
    hb = torch.tensor([[2., 3., 22., 19.], [9., 1., 30., 12.]])
    rb = torch.cat([(hb[:, :2] + hb[:, 2:]) / 2, hb[:, 2:] - hb[:, :2], torch.zeros(2, 1)], 1)
    for overlap in ('diou', 'iof_diou'):
        w_h = VLRRegion(overlap=overlap, exclude_pos=False)(priors, [16], hb)
        w_r = VLRRegion(overlap=overlap, exclude_pos=False, box_type='rbox')(priors, [16], rb)
        assert (w_h > 0).any()
        torch.testing.assert_close(w_r, w_h, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match='box_type'):
        VLRRegion(box_type='poly')


def test_atss_threshold_hand_case():
    iou = torch.tensor([[0.1], [0.3], [0.5], [0.9]])
    dist = torch.tensor([[4.], [3.], [2.], [1.]])
    thr = atss_thresholds(iou, dist, [4], topk=3)   # candidates 0.9, 0.5, 0.3
    vals = torch.tensor([0.9, 0.5, 0.3])
    torch.testing.assert_close(thr, (vals.mean() + vals.std())[None])


def test_single_candidate_threshold_is_its_iou_in_every_user():
    """One copy of the ATSS threshold (mean + unbiased std) with the single-candidate guard: the
    std of one value is NaN in torch; the threshold must be that IoU, for both assigners and the VLR."""
    from rotated_ld.models.task_modules.assigners import ATSSAssigner, RotatedATSSAssigner, atss_threshold

    torch.testing.assert_close(atss_threshold(torch.tensor([[0.4, 0.7]])), torch.tensor([0.4, 0.7]))
    # one level with one prior: the GT's only candidate is that prior; it is positive (IoU ≥ thr)
    prior = torch.tensor([[0., 0., 16., 16.]])
    gt = torch.tensor([[2., 2., 14., 14.]])
    res = ATSSAssigner(topk=9).assign(prior, [1], gt, torch.tensor([2]))
    assert res.gt_inds.tolist() == [0] and torch.isfinite(res.thresholds).all()
    torch.testing.assert_close(res.thresholds, torch.tensor([144. / 256.]))
    rgt = torch.tensor([[8., 8., 12., 12., 0.]])
    rres = RotatedATSSAssigner(topk=9).assign(prior, [1], rgt, torch.tensor([2]))
    assert rres.gt_inds.tolist() == [0]
    torch.testing.assert_close(rres.thresholds, torch.tensor([144. / 256.]), atol=1e-5, rtol=1e-5)
    thr = atss_thresholds(torch.tensor([[0.3]]), torch.tensor([[1.]]), [1], topk=9)
    torch.testing.assert_close(thr, torch.tensor([0.3]))


def test_quality_weights():
    logits = torch.tensor([[0., 2.], [-1., -3.]])
    w = quality_weights(logits, torch.tensor([True, False]))
    torch.testing.assert_close(w, torch.tensor([torch.sigmoid(torch.tensor(2.)).item(), 0.]))


# ------------------------------------------------------------------------------ imitation
def test_inside_gt_mask_hand():
    pts = torch.tensor([[5., 5.], [10., 5.], [0., 0.], [15., 2.]])
    gts = torch.tensor([[0., 0., 10., 10.]])
    assert inside_gt_mask(pts, gts).tolist() == [True, False, False, False]  # strict
    # rotated GT 20×4 at (10, 10), turned 90°: it spans y ∈ (0, 20), x ∈ (8, 12)
    rb = torch.tensor([[10., 10., 20., 4., math.pi / 2]])
    pts = torch.tensor([[10., 2.], [2., 10.], [11., 18.]])
    assert inside_gt_mask(pts, rb).tolist() == [True, False, True]


def test_finegrained_and_methods():
    iou = torch.tensor([[0.8, 0.0], [0.45, 0.0], [0.3, 0.1], [0.0, 0.2]])
    assert finegrained_mask(iou).tolist() == [True, True, False, True]
    pts = torch.tensor([[5., 5.], [50., 50.]])
    gts = torch.tensor([[0., 0., 10., 10.]])
    assert imitation_mask('fitnet', pts, gts).all()
    assert imitation_mask('ingt', pts, gts).tolist() == [True, False]
    assert imitation_mask('decouple', pts, gts).tolist() == [True, False]
    assert imitation_mask('finegrain', pts, gts, iou[:2, :1]).tolist() == [True, True]
    with pytest.raises(ValueError, match='imitation_method'):
        imitation_mask('defeat', pts, gts)


def test_gibox_hand_case():
    # 4 locations in one group: GI scores 0.6, 0.5 (overlapping the first), 0.4, 0.1
    t = torch.logit(torch.tensor([[0.9], [0.1], [0.5], [0.5]]))
    s = torch.logit(torch.tensor([[0.3], [0.6], [0.1], [0.4]]))
    sb = torch.tensor([[0., 0, 10, 10], [0, 0, 10, 10], [50, 50, 60, 60], [0, 0, 1, 1]])
    tb = torch.tensor([[100., 100, 110, 110], [1, 1, 11, 11], [0, 0, 10, 10], [0, 0, 1, 1]])
    grp = torch.zeros(4, dtype=torch.long)
    # loc0 teacher higher -> teacher box (100..); loc1 student higher -> student box (0..10);
    # loc2 teacher higher -> teacher box (0..10) overlaps loc1 and is suppressed
    assert gibox_mask(s, t, sb, tb, grp, 0.3, 10).tolist() == [True, True, False, True]
    assert gibox_mask(s, t, sb, tb, grp, 0.3, 2).tolist() == [True, True, False, False]
    # separate groups never suppress each other and keep their own top-k
    grp = torch.tensor([0, 1, 1, 0])
    assert gibox_mask(s, t, sb, tb, grp, 0.3, 1).tolist() == [True, True, False, False]


# ---------------------------------------------------------------------------- LDDistiller
def _inputs(P=60, E=4, R=17, C=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    pos = torch.rand(P, generator=g) < 0.3
    return dict(student_reg=torch.randn(P, E * R, generator=g, requires_grad=True),
                teacher_reg=torch.randn(P, E * R, generator=g, requires_grad=True),
                num_bins=R, pos_mask=pos, pos_weight=torch.rand(P, generator=g) * pos,
                vlr_weight=torch.rand(P, generator=g) * (~pos) * (torch.rand(P, generator=g) < .5),
                student_cls=torch.randn(P, C, generator=g), teacher_cls=torch.randn(P, C, generator=g),
                level_ids=torch.randint(0, 3, (P,), generator=g), num_levels=3,
                student_feats=torch.randn(P, 8, generator=g), teacher_feats=torch.randn(P, 8, generator=g),
                im_mask=torch.rand(P, generator=g) < 0.4)


def test_distiller_matches_reference_formulas():
    x = _inputs()
    d = LDDistiller(loss_kd_vlr=dict(type='KDLoss', loss_weight=1.0, T=2),
                    imitation_method='decouple')
    out = d(**x)
    assert set(out) == {'loss_ld', 'loss_ld_vlr', 'loss_kd', 'loss_kd_vlr', 'loss_im'}
    R = 17
    kl = distribution_kl(x['student_reg'].reshape(-1, R), x['teacher_reg'].reshape(-1, R), 10.)
    kl = kl.reshape(-1, 4)
    pos, vw = x['pos_mask'], x['vlr_weight']
    ld = 0.25 * (kl[pos] * x['pos_weight'][pos, None]).sum() / 4
    ld_vlr = 0.25 * (kl[vw > 0] * vw[vw > 0, None]).sum() / 16
    torch.testing.assert_close(out['loss_ld'], ld)
    torch.testing.assert_close(out['loss_ld_vlr'], ld_vlr)
    kd_rows = distribution_kl(x['student_cls'], x['teacher_cls'], 2.0)
    lv = x['level_ids']
    kd = sum(kd_rows[pos & (lv == i)].mean() for i in range(3) if (pos & (lv == i)).any())
    torch.testing.assert_close(out['loss_kd'], 10 * kd)
    kdv = sum(kd_rows[(vw > 0) & (lv == i)].mean() for i in range(3) if ((vw > 0) & (lv == i)).any())
    torch.testing.assert_close(out['loss_kd_vlr'], kdv)
    sf, tf, m = x['student_feats'], x['teacher_feats'], x['im_mask']
    im = sum(((sf[m & (lv == i)] - tf[m & (lv == i)]) ** 2).mean()
             + 2 * ((sf[~m & (lv == i)] - tf[~m & (lv == i)]) ** 2).mean() for i in range(3))
    torch.testing.assert_close(out['loss_im'], 2.0 * im)
    sum(out.values()).backward()
    assert x['teacher_reg'].grad is None and x['student_reg'].grad.abs().sum() > 0


def test_distiller_mean_normalisation_and_switches():
    x = _inputs(seed=1)
    d = LDDistiller(ld_normalize='mean', loss_ld_vlr=None, loss_kd=None, loss_kd_vlr=None,
                    loss_ld=dict(type='KDLoss', loss_weight=1.0, T=10, bin_reduction='sum'),
                    suffix='_angle')
    out = d(**x)
    assert set(out) == {'loss_ld_angle'} and not d.needs_vlr and not d.needs_cls
    kl = distribution_kl(x['student_reg'].reshape(-1, 17), x['teacher_reg'].reshape(-1, 17),
                         10., 'sum').reshape(-1, 4)
    pos, w = x['pos_mask'], x['pos_weight']
    torch.testing.assert_close(out['loss_ld_angle'],
                               (kl[pos].mean(1) * w[pos]).sum() / w[pos].sum())


def test_distiller_zero_weight_and_empty_regions():
    x = _inputs()
    x['pos_mask'] = torch.zeros_like(x['pos_mask'])
    x['vlr_weight'] = torch.zeros_like(x['vlr_weight'])
    out = LDDistiller()(**x)
    assert all(v.item() == 0 and torch.isfinite(v) for v in out.values())
    assert out['loss_ld'].requires_grad   # still connected to the student graph


def test_distiller_mismatch_errors():
    x = _inputs()
    x['teacher_reg'] = torch.randn(60, 4 * 9)
    with pytest.raises(ValueError, match='reg_max'):
        LDDistiller()(**x)
    x = _inputs()
    x['teacher_cls'] = torch.randn(60, 5)
    with pytest.raises(ValueError, match='class counts'):
        LDDistiller()(**x)


def test_distiller_build_from_registry():
    from rotated_ld.registry import MODELS

    d = MODELS.build(dict(type='LDDistiller', imitation_method='gibox',
                          vlr=dict(type='VLRRegion', overlap='iof_diou', exclude_pos=False)))
    assert d.needs_feats and d.needs_vlr and d.vlr.overlap == 'iof_diou'
