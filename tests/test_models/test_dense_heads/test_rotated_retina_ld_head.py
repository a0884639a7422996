"""RotatedLDRetinaHead: the Rotated-LD region rule on a hand-computed case, LD/KD losses vs a slow
per-level loop, zero for a teacher equal to the student, JDet's positives variant, gradients.
Tiny heads on CPU, a few seconds."""
import math
import statistics

import pytest
import torch

from rotated_ld.models.dense_heads.rotated_ld_retina_head import RotatedLDRetinaHead
from rotated_ld.models.distillers import RotatedLDRegion
from tests.test_models.test_dense_heads.test_rotated_retina_head import ONE_GT, STRIDES, make_feats, make_samples


def rotated_ld_region(priors, nlp, gts, alpha=0.25, topk=9, region_gt='ignore_angle', gt_chunk=64):
    return RotatedLDRegion(alpha, topk, region_gt, gt_chunk)(priors, nlp, gts)


def _xyxy_to_rbox(b):
    x1, y1, x2, y2 = b
    return [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1, 0.0]


def test_region_hand_computed():
    # GT (5, 5, 10, 10, 0.3): with the angle ignored (reference) it is the box [0, 0, 10, 10]
    priors = torch.tensor([_xyxy_to_rbox(b) for b in
                           ([0, 0, 10, 10], [5, 0, 15, 10], [0, 5, 10, 15], [20, 20, 30, 30], [2, 2, 12, 12])])
    gt = torch.tensor([[5., 5., 10., 10., 0.3]])
    ious = [1.0, 50 / 150, 50 / 150, 0.0, 64 / 136]
    # top-3 centres nearest (5, 5): p0 (0), p4 (2.83), one of p1/p2 (5; both IoU 1/3)
    cand = [1.0, 64 / 136, 50 / 150]
    thr = statistics.mean(cand) + statistics.stdev(cand)
    assert math.isclose(thr, 0.953339, abs_tol=1e-5)
    w = rotated_ld_region(priors, [5], gt, alpha=0.25, topk=3)
    expect = torch.tensor([v if v >= 0.25 * thr else 0.0 for v in ious])
    assert torch.allclose(w, expect, atol=1e-6)
    assert torch.equal(w > 0, torch.tensor([True, True, True, False, True]))
    # no upper bound: a prior with IoU ≥ thr (p0, a positive) stays in the region
    # a second GT: each prior keeps its largest qualifying IoU
    gt2 = torch.tensor([[5., 5., 10., 10., 0.3], [25., 25., 10., 10., 0.]])
    w2 = rotated_ld_region(priors, [5], gt2, alpha=0.25, topk=3)
    assert math.isclose(float(w2[3]), 1.0, abs_tol=1e-6) and torch.allclose(w2[[0, 1, 2, 4]], w[[0, 1, 2, 4]])
    # circumscribed GT box of the turned GT is larger: IoU of p0 drops below 1
    wc = rotated_ld_region(priors, [5], gt, alpha=0.25, topk=3, region_gt='circumscribed')
    side = 10 * (math.cos(0.3) + math.sin(0.3))
    assert math.isclose(float(wc[0]), 100 / side ** 2, rel_tol=1e-5)
    assert (rotated_ld_region(priors, [5], gt[:0]) == 0).all()


def ld_head(**kw):
    cfg = dict(num_classes=3, in_channels=4, feat_channels=4, stacked_convs=1, angle_version='oc', reg_max=8,
               reg_decoded_bbox=True,
               loss_bbox=dict(type='GDLoss_v1', loss_type='kld', fun='log1p', tau=1.0, loss_weight=1.0),
               anchor_generator=dict(type='RotatedAnchorGenerator', octave_base_scale=4, scales_per_octave=3,
                                     ratios=[1.0, 0.5, 2.0], strides=STRIDES),
               train_cfg=dict(assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.4,
                                            min_pos_iou=0, iou_mode='circumscribed_hbox')))
    cfg.update(kw)
    return RotatedLDRetinaHead(**cfg)


def _kl(s, t, T):
    """T²·mean over bins of pT·(log pT − log pS), row-wise (reference KL)."""
    lt, ls = torch.log_softmax(t / T, -1), torch.log_softmax(s / T, -1)
    return T * T * (lt.exp() * (lt - ls)).mean(-1)


def test_losses_match_slow_per_level_loop():
    torch.manual_seed(0)
    head = ld_head(loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=10, T=5),
                   loss_kd=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=20, T=5))
    feats = make_feats('cpu')
    samples = make_samples([ONE_GT, [[40., 40., 30., 12., -1.0], [12., 10., 16., 16., -0.2]]])
    teacher = tuple([o + torch.randn_like(o) for o in outs] for outs in head(feats))
    losses = head.loss(feats, samples, teacher_outs=teacher)
    with torch.no_grad():
        s_cls, s_reg = head.concat_levels(*head(feats))
        t_cls, t_reg = head.concat_levels(*teacher)
        flat = head.build_flat_outputs(*head(feats))
    gts = [head.coding.prepare_gts(s.gt_instances.bboxes) for s in samples]
    ld = kd = ld_da = 0.0
    W = torch.stack([rotated_ld_region(flat.priors, flat.num_level_priors, g) for g in gts])
    start = 0
    for n in flat.num_level_priors:  # the reference: per level, Σ w·loss / #region priors of the level
        w = W[:, start:start + n]
        cnt = max(int((w > 0).sum()), 1)
        b, i = (w > 0).nonzero(as_tuple=True)
        a = start + i
        kl5 = _kl(s_reg[b, a].reshape(-1, 5, 9), t_reg[b, a].reshape(-1, 5, 9), 5)  # (rows, 5 deltas)
        ld += 10 * (w[b, i] * kl5.sum(1)).sum() / cnt
        ld_da += 10 * (w[b, i] * kl5[:, 4]).sum() / cnt
        kd += 20 * (w[b, i] * _kl(s_cls[b, a], t_cls[b, a], 5)).sum() / cnt
        start += n
    assert torch.allclose(losses['loss_ld'], torch.as_tensor(ld), rtol=1e-4)
    assert torch.allclose(losses['loss_kd'], torch.as_tensor(kd), rtol=1e-4)
    assert losses['loss_ld'] > 0 and losses['loss_kd'] > 0
    # the da share is logged (not a 'loss' key, so not optimised twice) and is part of loss_ld
    assert torch.allclose(losses['ld_da'], torch.as_tensor(ld_da), rtol=1e-4)
    assert 0 < losses['ld_da'] < losses['loss_ld'] and not losses['ld_da'].requires_grad


def test_teacher_equal_student_gives_zero_and_grads():
    head = ld_head()
    feats = make_feats('cpu')
    samples = make_samples([ONE_GT, []])
    with torch.no_grad():
        teacher = head(feats)
    losses = head.loss(feats, samples, teacher_outs=teacher)
    assert {k for k in losses if 'loss' in k} == {'loss_cls', 'loss_bbox', 'loss_ld', 'loss_kd'}
    assert abs(losses['loss_ld'].item()) < 1e-5 and abs(losses['loss_kd'].item()) < 1e-5
    teacher = tuple([o + 1.0 * torch.randn_like(o) for o in outs] for outs in teacher)
    losses = head.loss(feats, samples, teacher_outs=teacher)
    (losses['loss_ld'] + losses['loss_kd']).backward()
    assert head.retina_reg.weight.grad.abs().sum() > 0 and head.retina_cls.weight.grad.abs().sum() > 0


def test_jdet_positives_variant():
    torch.manual_seed(1)
    head = ld_head(region='positives', normalize='mean', reg_decoded_bbox=False,
                   loss_bbox=dict(type='L1Loss', loss_weight=1.0),
                   loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=10, T=10),
                   loss_kd=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=10, T=2))
    feats = make_feats('cpu')
    samples = make_samples([ONE_GT, []])
    teacher = tuple([o + torch.randn_like(o) for o in outs] for outs in head(feats))
    losses = head.loss(feats, samples, teacher_outs=teacher)
    flat = head.build_flat_outputs(*head(feats))
    t = head.get_targets(flat.priors, [s.gt_instances for s in samples])
    t_cls, t_reg = head.concat_levels(*teacher)
    p = t.pos_mask
    ld = 10 * _kl(flat.reg[p].reshape(-1, 9), t_reg[p].reshape(-1, 9), 10).mean()  # over 5·#pos rows
    valid = t.label_weights > 0
    kd = 10 * _kl(flat.cls[valid], t_cls[valid], 2).mean()
    assert torch.allclose(losses['loss_ld'], ld, rtol=1e-4) and torch.allclose(losses['loss_kd'], kd, rtol=1e-4)


def test_errors():
    with pytest.raises(ValueError, match='reg_max'):
        ld_head(reg_max=None)
    with pytest.raises(ValueError, match='region'):
        ld_head(region='vlr')
    head = ld_head()
    with pytest.raises(ValueError, match='teacher_outs'):
        head.loss(make_feats('cpu'), make_samples([ONE_GT, []]))


def test_region_gt_chunks_are_exact():
    torch.manual_seed(0)
    from rotated_ld.models.task_modules.prior_generators.anchor_generator import RotatedAnchorGenerator
    pri = RotatedAnchorGenerator(strides=[8, 16]).grid_priors([(12, 12), (6, 6)])
    priors, nlp = torch.cat(pri), [p.shape[0] for p in pri]
    gts = torch.cat([torch.rand(10, 2) * 90, torch.rand(10, 2) * 40 + 8, -torch.rand(10, 1) * 1.5], 1)
    full = rotated_ld_region(priors, nlp, gts, gt_chunk=1000)
    assert torch.equal(rotated_ld_region(priors, nlp, gts, gt_chunk=3), full) and (full > 0).any()
