"""RetinaNet anchors (hand-computed sizes/order) and MaxIoUAssigner vs a brute-force loop that
restates mmdet's algorithm; IoU by shapely polygons (rotated) or circumscribed horizontal boxes.
CPU, a few seconds."""
import math

import pytest
import torch
from shapely.geometry import Polygon

from rotated_ld.models.task_modules.assigners.max_iou_assigner import MaxIoUAssigner
from rotated_ld.models.task_modules.prior_generators.anchor_generator import AnchorGenerator, RotatedAnchorGenerator


def _corners(b):
    cx, cy, w, h, t = b
    c, s = math.cos(t), math.sin(t)
    return [(cx + c * dx - s * dy, cy + s * dx + c * dy)
            for dx, dy in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))]


def shapely_iou(priors, gts):
    """(A, 5), (G, 5) → (A, G) rotated IoU by polygon clipping."""
    out = torch.zeros(priors.shape[0], gts.shape[0])
    gp = [Polygon(_corners(g.tolist())) for g in gts]
    for i, p in enumerate(priors.tolist()):
        pp = Polygon(_corners(p))
        for j, q in enumerate(gp):
            inter = pp.intersection(q).area
            out[i, j] = inter / (pp.area + q.area - inter)
    return out


def brute_force(overlaps, labels, pos_thr=0.5, neg_thr=0.4, min_pos_iou=0.0, assign_all=True):
    """mmdet MaxIoUAssigner.assign_wrt_overlaps, written as plain loops (G, A)."""
    G, A = overlaps.shape
    inds = [-1] * A
    for a in range(A):
        col = overlaps[:, a].tolist()
        best = max(col)
        if 0 <= best < neg_thr:
            inds[a] = 0
        if best >= pos_thr:
            inds[a] = col.index(best) + 1
    for g in range(G):
        row = overlaps[g].tolist()
        gmax = max(row)
        if gmax >= min_pos_iou and gmax > 0:
            if assign_all:
                for a in range(A):
                    if row[a] == gmax:
                        inds[a] = g + 1
            else:
                inds[row.index(gmax)] = g + 1
    lab = [int(labels[i - 1]) if i > 0 else -1 for i in inds]
    return torch.tensor(inds), torch.tensor(lab)


def test_anchor_sizes_and_order():
    gen = AnchorGenerator(strides=(8, 16), ratios=(1.0, 0.5, 2.0), octave_base_scale=4, scales_per_octave=3)
    assert gen.num_base_priors == [9, 9]
    wh = gen.base_wh(0)
    sides = [32 * 2 ** (i / 3) for i in range(3)]
    # ratio-major: ratio 1 (3 scales), ratio 0.5, ratio 2; h/w = ratio, area = side²
    for r_i, r in enumerate((1.0, 0.5, 2.0)):
        for s_i, side in enumerate(sides):
            w, h = wh[r_i * 3 + s_i].tolist()
            assert math.isclose(h / w, r, rel_tol=1e-5) and math.isclose(w * h, side * side, rel_tol=1e-5)
    pri = gen.grid_priors([(2, 3), (1, 1)])
    assert [p.shape for p in pri] == [(54, 4), (9, 4)]
    ctr = (pri[0][:, :2] + pri[0][:, 2:]) / 2
    # location-major (row-major over H, W), 9 anchors per location
    assert torch.allclose(ctr[0:9], torch.zeros(9, 2))
    assert torch.allclose(ctr[9:18], torch.tensor([8., 0.]).expand(9, 2))
    assert torch.allclose(ctr[27:36], torch.tensor([0., 8.]).expand(9, 2))
    rot = RotatedAnchorGenerator(strides=(8, 16)).grid_priors([(2, 3), (1, 1)])
    assert rot[0].shape == (54, 5) and (rot[0][:, 4] == 0).all()
    assert torch.allclose(rot[0][:, 2:4], pri[0][:, 2:] - pri[0][:, :2])


def _scene(seed, n_gt=4):
    g = torch.Generator().manual_seed(seed)
    anchors = RotatedAnchorGenerator(strides=(8, 16), octave_base_scale=2).grid_priors([(6, 6), (3, 3)])
    anchors = torch.cat(anchors)
    xy = torch.rand(n_gt, 2, generator=g) * 40 + 4
    wh = torch.rand(n_gt, 2, generator=g) * 30 + 6
    t = -torch.rand(n_gt, 1, generator=g) * math.pi / 2
    return anchors, torch.cat([xy, wh, t], 1), torch.randint(0, 5, (n_gt,), generator=g)


@pytest.mark.parametrize('assign_all', [True, False])
@pytest.mark.parametrize('seed', [0, 1, 2])
def test_matches_brute_force_random_overlaps(seed, assign_all):
    g = torch.Generator().manual_seed(seed)
    ov = (torch.rand(5, 60, generator=g) * 10).round() / 10  # many ties
    ov[3] = 0.0  # a GT that overlaps nothing claims nothing
    labels = torch.arange(5) + 10
    res = MaxIoUAssigner(min_pos_iou=0.0, gt_max_assign_all=assign_all).assign_wrt_overlaps(ov, labels)
    inds, lab = brute_force(ov, labels, assign_all=assign_all)
    assert torch.equal(res.gt_inds, inds) and torch.equal(res.labels, lab)


@pytest.mark.parametrize('seed', [0, 1])
def test_rotated_mode_matches_brute_force(seed):
    anchors, gts, labels = _scene(seed)
    assigner = MaxIoUAssigner(iou_mode='rotated', iou_calculator=shapely_iou)
    res = assigner.assign(anchors, gts, labels)
    inds, lab = brute_force(shapely_iou(anchors, gts).t(), labels)
    assert torch.equal(res.gt_inds, inds) and torch.equal(res.labels, lab)
    assert (res.gt_inds > 0).any() and (res.gt_inds == 0).any()


def test_circumscribed_mode_matches_brute_force():
    anchors, gts, labels = _scene(3)
    res = MaxIoUAssigner(iou_mode='circumscribed_hbox').assign(anchors, gts, labels)
    # circumscribed box as an angle-0 rbox; rotated IoU of two axis-aligned boxes = hbox IoU
    c = torch.stack([_corners_t(b) for b in gts])
    lo, hi = c.min(1).values, c.max(1).values
    hb = torch.cat([(lo + hi) / 2, hi - lo, torch.zeros(len(gts), 1)], 1)
    inds, lab = brute_force(shapely_iou(anchors, hb).t(), labels)
    assert torch.equal(res.gt_inds, inds) and torch.equal(res.labels, lab)
    # xyxy priors give the same answer
    xyxy = torch.cat([anchors[:, :2] - anchors[:, 2:4] / 2, anchors[:, :2] + anchors[:, 2:4] / 2], 1)
    assert torch.equal(MaxIoUAssigner(iou_mode='circumscribed_hbox').assign(xyxy, gts, labels).gt_inds, inds)


def _corners_t(b):
    return torch.tensor(_corners(b.tolist()))


def test_empty_and_ignore():
    anchors, gts, labels = _scene(4)
    a = MaxIoUAssigner(iou_mode='circumscribed_hbox', ignore_iof_thr=0.5)
    r = a.assign(anchors, gts[:0], labels[:0])
    assert (r.gt_inds == 0).all() and (r.labels == -1).all()
    r = a.assign(anchors[:0], gts, labels)
    assert r.gt_inds.shape == (0,)
    plain = a.assign(anchors, gts[1:], labels[1:])
    ign = a.assign(anchors, gts[1:], labels[1:], gt_bboxes_ignore=gts[:1])
    # priors inside the ignored GT are neither positive by threshold nor negative
    # (a GT may still claim one of them as its best low-quality match, as in mmdet)
    assert (ign.gt_inds == -1).sum() > (plain.gt_inds == -1).sum()
    with pytest.raises(ValueError, match='iou_mode'):
        MaxIoUAssigner(iou_mode='giou')
