"""Rotated score-voting NMS vs an independent brute-force loop (shapely IoU, explicit corner matching).

Covers: voting off == ``batched_nms_rotated`` / ``nms_rotated``; voting == the loop on random scenes;
a cluster straddling the le90 boundary (+89° / −89° → ±90°, not 0°); near-square boxes (period π/2);
the config path through ``RotatedGFLHead.predict_by_feat``. CPU: ~2 s.
"""
import math

import pytest
import torch
from shapely.geometry import Polygon

from rotated_ld.models.utils.nms import get_nms, multiclass_nms
from rotated_ld.ops import batched_nms_rotated, nms_rotated, rotated_voting_nms
from tests.conftest import DEVICES


def _corners(b):
    """Ordered corners of (cx, cy, w, h, t): local (±w/2, ±h/2) rotated by t."""
    cx, cy, w, h, t = b
    c, s = math.cos(t), math.sin(t)
    return [(cx + c * u - s * v, cy + s * u + c * v)
            for u, v in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))]


def _iou(a, b):
    pa, pb = Polygon(_corners(a)), Polygon(_corners(b))
    inter = pa.intersection(pb).area
    return inter / (pa.area + pb.area - inter)


def _greedy(boxes, scores, labels, thr):
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    keep = []
    for i in order:
        if all(labels[i] != labels[k] or _iou(boxes[k], boxes[i]) <= thr for k in keep):
            keep.append(i)
    return keep


def _align_brute(b, ref):
    """Representation of b whose ordered corners are nearest ref's (search over swaps and ±kπ)."""
    best, best_cost = None, float('inf')
    rc = _corners((0, 0) + tuple(ref[2:]))
    for swap in (False, True):
        w, h, t = (b[3], b[2], b[4] + math.pi / 2) if swap else (b[2], b[3], b[4])
        for k in range(-3, 4):
            tk = t + k * math.pi
            if not -math.pi / 2 <= tk - ref[4] < math.pi / 2:
                continue
            cc = _corners((0, 0, w, h, tk))
            cost = sum((x - rx) ** 2 + (y - ry) ** 2 for (x, y), (rx, ry) in zip(cc, rc))
            if cost < best_cost - 1e-9:
                best, best_cost = (b[0], b[1], w, h, tk), cost
    return best


def _vote_brute(boxes, scores, labels, keep, voting_thr=0.01, sigma=0.025):
    out = []
    for i in keep:
        ref = boxes[i]
        acc, den = [0.0] * 5, 0.0
        for j in range(len(boxes)):
            if labels[j] != labels[i]:
                continue
            iou = _iou(ref, boxes[j])
            if iou <= voting_thr:
                continue
            w = scores[j] * (math.exp(-(1 - iou) ** 2 / sigma) if sigma else 1.0)
            a = _align_brute(boxes[j], ref)
            for d in range(5):
                acc[d] += w * a[d]
            den += w
        out.append([v / den for v in acc])
    return out


def _scene(n, seed, classes=3, square=False):
    g = torch.Generator().manual_seed(seed)
    centers = torch.rand(6, 2, generator=g) * 200
    pick = torch.randint(0, 6, (n,), generator=g)
    xy = centers[pick] + torch.randn(n, 2, generator=g) * 3
    w = torch.rand(n, generator=g) * 30 + 20
    h = w * (1 + 0.05 * torch.rand(n, generator=g)) if square else w * (0.2 + 0.5 * torch.rand(n, generator=g))
    t = (torch.rand(n, generator=g) - 0.5) * math.pi
    boxes = torch.stack([xy[:, 0], xy[:, 1], w, h, t], 1).double()
    return boxes, torch.rand(n, generator=g).double(), torch.randint(0, classes, (n,), generator=g)


def _angle_close(a, b, period=math.pi, tol=1e-6):
    d = (a - b + period / 2) % period - period / 2
    return abs(d) < tol


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('seed', range(3))
def test_voting_off_equals_nms_rotated(device, seed):
    boxes, scores, labels = (x.to(device) for x in _scene(60, seed))
    b, s, keep = rotated_voting_nms(boxes, scores, labels, 0.1, voting=False)
    assert torch.equal(keep, batched_nms_rotated(boxes, scores, labels, 0.1))
    assert torch.equal(b, boxes[keep]) and torch.equal(s, scores[keep])
    # single class: identical to nms_rotated
    one = torch.zeros_like(labels)
    assert torch.equal(rotated_voting_nms(boxes, scores, one, 0.1, voting=False)[2], nms_rotated(boxes, scores, 0.1))


@pytest.mark.parametrize('seed,square', [(0, False), (1, False), (2, True)])
def test_voting_matches_brute_force(seed, square):
    boxes, scores, labels = _scene(40, seed, square=square)
    out, out_scores, keep = rotated_voting_nms(boxes, scores, labels, 0.1)
    bl, sl, ll = boxes.tolist(), scores.tolist(), labels.tolist()
    ref_keep = _greedy(bl, sl, ll, 0.1)
    assert keep.tolist() == ref_keep
    assert torch.equal(out_scores, scores[keep])
    ref = _vote_brute(bl, sl, ll, ref_keep)
    for got, exp in zip(out.tolist(), ref):
        assert got[:4] == pytest.approx(exp[:4], abs=1e-6)
        assert _angle_close(got[4], exp[4])


def test_plain_score_weights_option():
    boxes, scores, labels = _scene(30, 5)
    out, _, keep = rotated_voting_nms(boxes, scores, labels, 0.1, voting_thr=0.5, sigma=None)
    ref = _vote_brute(boxes.tolist(), scores.tolist(), labels.tolist(), keep.tolist(), 0.5, None)
    for got, exp in zip(out.tolist(), ref):
        assert got[:4] == pytest.approx(exp[:4], abs=1e-6)
        assert _angle_close(got[4], exp[4])


def test_cluster_straddling_le90_boundary():
    deg = math.pi / 180
    boxes = torch.tensor([[50., 50., 40., 10., 89 * deg],
                          [50., 50., 40., 10., -89 * deg]])
    scores = torch.tensor([0.9, 0.9 - 1e-6])
    labels = torch.zeros(2, dtype=torch.long)
    # plain score weights (sigma=None): the two boxes weigh the same, the mean is exactly between them
    out, _, keep = rotated_voting_nms(boxes, scores, labels, 0.1, sigma=None, angle_version='le90')
    assert keep.tolist() == [0]
    t = float(out[0, 4])
    assert abs(abs(t) - math.pi / 2) < 1e-4, t  # ±90°, not 0°
    assert t == pytest.approx(-math.pi / 2, abs=1e-4)  # le90 range [-π/2, π/2)
    assert out[0, 2:4].tolist() == pytest.approx([40., 10.], abs=1e-4)
    # without angle_version the result stays next to the kept box (+90°, outside le90 by 0)
    out2, _, _ = rotated_voting_nms(boxes, scores, labels, 0.1, sigma=None)
    assert float(out2[0, 4]) == pytest.approx(math.pi / 2, abs=1e-4)
    # default Gaussian weights: the kept box (IoU 1 with itself) weighs more, still next to ±90°
    out3, _, _ = rotated_voting_nms(boxes, scores, labels, 0.1, angle_version='le90')
    assert 89 * deg < float(out3[0, 4]) < 90 * deg


def test_near_square_swapped_representation():
    """A square-ish box given as (h, w, t + 90° − 2°) votes as a 2° rotation, not an 88° one."""
    deg = math.pi / 180
    boxes = torch.tensor([[0., 0., 20.2, 20., 10 * deg],
                          [0., 0., 20., 20.2, (10 + 90 - 2) * deg]])
    out, _, _ = rotated_voting_nms(boxes, torch.tensor([0.9, 0.9]), torch.zeros(2, dtype=torch.long), 0.1,
                                   sigma=None)
    assert float(out[0, 4]) == pytest.approx(9 * deg, abs=1e-4)
    assert out[0, 2:4].tolist() == pytest.approx([20.2, 20.], abs=1e-4)


def test_self_vote_unchanged_and_empty():
    boxes = torch.tensor([[10., 10., 8., 4., 0.3], [100., 100., 8., 4., -1.2]])
    out, _, keep = rotated_voting_nms(boxes, torch.tensor([0.5, 0.7]), torch.zeros(2, dtype=torch.long), 0.1)
    assert keep.tolist() == [1, 0]
    assert torch.allclose(out, boxes[keep], atol=1e-5)
    b, s, k = rotated_voting_nms(torch.zeros(0, 5), torch.zeros(0), torch.zeros(0, dtype=torch.long))
    assert b.shape == (0, 5) and s.shape == (0,) and k.shape == (0,)


def test_registered_in_head_nms_dispatch():
    boxes, scores, labels = _scene(30, 7)
    boxes, scores = boxes.float(), scores.float()
    fn = get_nms(dict(type='rotated_voting_nms', iou_threshold=0.1, voting_thr=0.01))
    b, s, keep = fn(boxes, scores, labels)
    ref = rotated_voting_nms(boxes, scores, labels, 0.1)
    assert torch.equal(keep, ref[2]) and torch.allclose(b, ref[0])
    ob, os_, ol, ok = multiclass_nms(boxes, scores, labels, dict(type='rotated_voting_nms', iou_threshold=0.1), 3)
    assert ob.shape == (min(3, len(keep)), 5) and torch.equal(ol, labels[ok])
    with pytest.raises(ValueError, match='unknown options'):
        get_nms(dict(type='rotated_voting_nms', iou_threshold=0.1, vote_thr=0.5))(boxes, scores, labels)


def test_rotated_gfl_head_predict_with_voting():
    from rotated_ld.models.dense_heads.rotated_gfl_head import RotatedGFLHead

    torch.manual_seed(0)
    head = RotatedGFLHead(3, 8, feat_channels=8, stacked_convs=1, norm_cfg=None, strides=(8, 16))
    feats = [torch.randn(1, 8, 8, 8), torch.randn(1, 8, 4, 4)]
    outs = head(feats)
    meta = [dict(img_shape=(64, 64), scale_factor=(1.0, 1.0))]
    base = dict(nms_pre=100, min_bbox_size=0, score_thr=0.0, max_per_img=50)
    plain = head.predict_by_feat(*outs, meta, cfg=dict(base, nms=dict(type='nms_rotated', iou_threshold=0.1)))[0]
    off = head.predict_by_feat(*outs, meta, cfg=dict(base, nms=dict(type='rotated_voting_nms', iou_threshold=0.1,
                                                                    voting=False)))[0]
    on = head.predict_by_feat(*outs, meta, cfg=dict(base, nms=dict(type='rotated_voting_nms', iou_threshold=0.1)))[0]
    assert torch.equal(plain.bboxes, off.bboxes) and torch.equal(plain.scores, off.scores)
    assert on.bboxes.shape == plain.bboxes.shape and torch.equal(on.scores, plain.scores)
    assert torch.isfinite(on.bboxes).all()
