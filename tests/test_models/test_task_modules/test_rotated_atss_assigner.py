"""Rotated ATSS assigner vs a brute-force loop (shapely IoU, per-GT / per-level Python loops).

CPU, a few seconds.
"""
import math

import pytest
import torch
from shapely.geometry import Polygon

from rotated_ld.models.task_modules.assigners.rotated_atss_assigner import (
    RotatedATSSAssigner,
    points_in_rboxes,
)


def _poly(b):
    cx, cy, w, h, t = [float(v) for v in b]
    c, s = math.cos(t), math.sin(t)
    pts = []
    for dx, dy in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)):
        pts.append((cx + c * dx - s * dy, cy + s * dx + c * dy))
    return Polygon(pts)


def shapely_iou(b1, b2):
    p, q = _poly(b1), _poly(b2)
    inter = p.intersection(q).area
    return inter / (p.area + q.area - inter)


def make_priors(strides=(8, 16, 32), size=96):
    priors, counts = [], []
    for s in strides:
        n = size // s
        ys, xs = torch.meshgrid(torch.arange(n), torch.arange(n), indexing='ij')
        cx = (xs.flatten().float() + 0.5) * s
        cy = (ys.flatten().float() + 0.5) * s
        half = 4 * s
        priors.append(torch.stack([cx - half, cy - half, cx + half, cy + half], -1))
        counts.append(n * n)
    return torch.cat(priors), counts


def brute_force(priors, counts, gts, labels, topk=9, eps=0.01):
    ctr = (priors[:, :2] + priors[:, 2:]) / 2
    side = priors[:, 2] - priors[:, 0]
    prb = torch.cat([ctr, side[:, None], side[:, None], torch.zeros(len(priors), 1)], -1)
    best_iou = [-1.0] * len(priors)
    best_gt = [-1] * len(priors)
    for g, gt in enumerate(gts):
        cands = []
        start = 0
        for n in counts:
            d = [((ctr[start + i] - gt[:2]) ** 2).sum().sqrt().item() for i in range(n)]
            order = sorted(range(n), key=lambda i: d[i])[:min(topk, n)]
            cands += [start + i for i in order]
            start += n
        ious = torch.tensor([shapely_iou(prb[a], gt) for a in cands], dtype=torch.float64)
        thr = (ious.mean() + ious.std()).item()
        for a, iou in zip(cands, ious.tolist()):
            c, s = math.cos(gt[4].item()), math.sin(gt[4].item())
            dx, dy = (ctr[a] - gt[:2]).tolist()
            qx, qy = c * dx + s * dy, -s * dx + c * dy
            inside = (gt[2].item() / 2 - abs(qx) > eps) and (gt[3].item() / 2 - abs(qy) > eps)
            if iou >= thr and inside and iou > best_iou[a]:
                best_iou[a], best_gt[a] = iou, g
    gt_inds = torch.tensor(best_gt)
    lab = torch.tensor([labels[g].item() if g >= 0 else -1 for g in best_gt])
    return gt_inds, lab, torch.tensor([max(v, 0.0) for v in best_iou])


@pytest.mark.parametrize('case', range(3))
def test_matches_brute_force(case):
    g = torch.Generator().manual_seed(case)
    priors, counts = make_priors()
    n = 6
    gts = torch.cat([torch.rand(n, 2, generator=g) * 80 + 8,
                     torch.rand(n, 1, generator=g) * 60 + 10,
                     torch.rand(n, 1, generator=g) * 25 + 5,
                     (torch.rand(n, 1, generator=g) - 0.5) * math.pi], -1)
    labels = torch.randint(0, 5, (n,), generator=g)
    res = RotatedATSSAssigner(topk=9).assign(priors, counts, gts, labels)
    ref_inds, ref_labels, ref_iou = brute_force(priors, counts, gts, labels)
    assert res.gt_inds.shape == (priors.shape[0],)
    assert (res.gt_inds >= 0).sum() > 0
    assert torch.equal(res.gt_inds, ref_inds)
    assert torch.equal(res.labels, ref_labels)
    assert torch.allclose(res.max_overlaps, ref_iou.float(), atol=1e-4)
    assert res.thresholds.shape == (n,)


def test_rotated_inside_test_is_used():
    # a long thin box at 45°: priors near the centre but outside the rotated box are never positive
    priors, counts = make_priors(strides=(8,), size=64)
    gt = torch.tensor([[32.0, 32.0, 60.0, 6.0, math.pi / 4]])
    res = RotatedATSSAssigner(topk=9).assign(priors, counts, gt, torch.tensor([2]))
    ctr = (priors[:, :2] + priors[:, 2:]) / 2
    pos = res.gt_inds >= 0
    assert pos.any()
    assert points_in_rboxes(ctr[pos], gt.expand(int(pos.sum()), 5)).all()
    assert (res.labels[pos] == 2).all()


def test_empty_gt_and_empty_priors():
    priors, counts = make_priors()
    res = RotatedATSSAssigner().assign(priors, counts, torch.zeros(0, 5), torch.zeros(0, dtype=torch.long))
    assert (res.gt_inds == -1).all() and (res.labels == -1).all() and res.thresholds.numel() == 0
    res = RotatedATSSAssigner().assign(torch.zeros(0, 4), [0], torch.rand(2, 5), torch.zeros(2).long())
    assert res.gt_inds.numel() == 0
