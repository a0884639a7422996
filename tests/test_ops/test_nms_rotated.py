"""Rotated NMS family (rotated_ld.ops.nms_rotated / batched_nms_rotated / multiclass_nms_rotated).

Same kept set as a brute-force greedy loop (ties broken by index) on random sets with many score
ties; batched NMS never suppresses across classes; agreement with torchvision NMS at angle 0
(tie-tolerant); empty inputs; inputs not mutated; multiclass contract. CPU time: ~5 s.
"""
import importlib
import math

import pytest
import torch
from conftest import DEVICES
from torchvision.ops import nms as tv_nms

from rotated_ld.ops import batched_nms_rotated, box_iou_rotated, multiclass_nms_rotated, nms_rotated
from rotated_ld.ops import iou_rotated as iou_mod
from rotated_ld.structures.bbox import hbox2rbox

nms_mod = importlib.import_module('rotated_ld.ops.nms_rotated')  # the package re-exports a same-named function


def brute_force_nms(boxes, scores, thr, idxs=None):
    """Textbook greedy NMS on the full IoU matrix; ties: lower index first."""
    order = sorted(range(len(scores)), key=lambda i: (-float(scores[i]), i))
    over = box_iou_rotated(boxes, boxes) > thr
    if idxs is not None:
        over &= idxs[:, None] == idxs[None, :]
    keep, suppressed = [], torch.zeros(len(scores), dtype=torch.bool)
    for i in order:
        if not suppressed[i]:
            keep.append(i)
            suppressed |= over[i]
    return torch.tensor(keep, dtype=torch.long)


def random_set(n, seed, device='cpu', dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    b = torch.cat([torch.rand(n, 2, generator=g) * 150, torch.rand(n, 2, generator=g) * 50 + 2,
                   torch.rand(n, 1, generator=g) * 2 * math.pi - math.pi], 1)
    s = torch.randint(0, 15, (n,), generator=g).double() / 15  # many exact ties
    idxs = torch.randint(0, 3, (n,), generator=g)
    return b.to(device, dtype), s.to(device, dtype), idxs.to(device)


@pytest.mark.parametrize('seed', range(6))
@pytest.mark.parametrize('thr', [0.05, 0.3, 0.7])
def test_nms_equals_brute_force(seed, thr):
    b, s, idxs = random_set(150, seed)
    assert torch.equal(nms_rotated(b, s, thr), brute_force_nms(b, s, thr))
    assert torch.equal(batched_nms_rotated(b, s, idxs, thr), brute_force_nms(b, s, thr, idxs))


def test_small_blocks_equal(monkeypatch):
    """The blocked sweep gives the same set for any block / chunk size."""
    b, s, idxs = random_set(100, 11)
    ref = nms_rotated(b, s, 0.2)
    monkeypatch.setattr(nms_mod, 'PREFILTER_CHUNK', 300)  # blocks of ~3 rows
    monkeypatch.setattr(nms_mod, 'EXACT_CHUNK', 16)
    assert torch.equal(nms_rotated(b, s, 0.2), ref)
    monkeypatch.setattr(iou_mod, 'EXACT_CHUNK', 16)
    assert torch.equal(batched_nms_rotated(b, s, idxs, 0.2), brute_force_nms(b, s, 0.2, idxs))


@pytest.mark.parametrize('device', DEVICES)
def test_keep_sorted_and_device(device):
    b, s, _ = random_set(100, 1, device)
    keep = nms_rotated(b, s, 0.3)
    assert keep.dtype == torch.long and keep.device == b.device
    ks = s[keep]
    assert (ks[:-1] >= ks[1:]).all()
    # kept boxes pairwise IoU <= thr
    iou = box_iou_rotated(b[keep], b[keep])
    iou.fill_diagonal_(0)
    assert (iou <= 0.3).all()


def test_batched_never_crosses_classes():
    b, s, _ = random_set(120, 2)
    b2 = torch.cat([b, b])  # exact duplicates in another class
    s2 = torch.cat([s, s])
    idxs = torch.cat([torch.zeros(120, dtype=torch.long), torch.ones(120, dtype=torch.long)])
    keep = batched_nms_rotated(b2, s2, idxs, 0.3)
    single = nms_rotated(b, s, 0.3)
    assert set(keep.tolist()) == set(single.tolist()) | {i + 120 for i in single.tolist()}
    # one class per box: nothing suppressed at all
    keep = batched_nms_rotated(b, s, torch.arange(120), 0.0)
    assert keep.numel() == 120


def test_matches_torchvision_at_angle_zero():
    g = torch.Generator().manual_seed(3)
    xy = torch.rand(300, 2, generator=g) * 200
    wh = torch.rand(300, 2, generator=g) * 40 + 5
    hb = torch.cat([xy, xy + wh], 1).double()
    s = torch.rand(300, generator=g).double()  # no ties
    # two implementations agree only where no IoU sits at the threshold (within rounding)
    from torchvision.ops import box_iou
    assert ((box_iou(hb, hb) - 0.4).abs() > 1e-9).all()
    ours = nms_rotated(hbox2rbox(hb), s, 0.4)
    ref = tv_nms(hb, s, 0.4)
    assert torch.equal(ours, ref)


@pytest.mark.parametrize('device', DEVICES)
def test_empty(device):
    e = torch.zeros((0, 5), device=device)
    s = torch.zeros((0,), device=device)
    assert nms_rotated(e, s, 0.5).shape == (0,)
    assert batched_nms_rotated(e, s, torch.zeros((0,), dtype=torch.long, device=device), 0.5).shape == (0,)
    boxes, scores, labels, inds = multiclass_nms_rotated(e, torch.zeros((0, 4), device=device), 0.05, 0.1, 100)
    assert boxes.shape == (0, 5) and scores.shape == labels.shape == inds.shape == (0,)
    assert labels.dtype == inds.dtype == torch.long and boxes.device == e.device


def test_inputs_not_mutated():
    b, s, idxs = random_set(80, 4)
    cb, cs, ci = b.clone(), s.clone(), idxs.clone()
    nms_rotated(b, s, 0.3)
    batched_nms_rotated(b, s, idxs, 0.3)
    multiclass_nms_rotated(b, torch.rand(80, 3, dtype=torch.float64), 0.2, 0.3, 10)
    assert torch.equal(b, cb) and torch.equal(s, cs) and torch.equal(idxs, ci)


@pytest.mark.parametrize('per_class_boxes', [False, True])
def test_multiclass_contract(per_class_boxes):
    g = torch.Generator().manual_seed(5)
    b, _, _ = random_set(60, 5)
    c = 4
    scores = torch.rand(60, c, generator=g, dtype=torch.float64)
    boxes = b[:, None].expand(60, c, 5).clone() if per_class_boxes else b
    if per_class_boxes:
        boxes[:, 1, 0] += 1000.0  # class 1 boxes live elsewhere: must come from the (N, C, 5) input
    out_b, out_s, out_l, out_i = multiclass_nms_rotated(boxes, scores, 0.3, 0.2, max_per_img=25)
    assert out_b.shape == (out_s.numel(), 5) and out_s.numel() <= 25
    assert (out_s > 0.3).all() and (out_s[:-1] >= out_s[1:]).all()
    assert torch.equal(out_s, scores[out_i, out_l])
    src = boxes[out_i, out_l] if per_class_boxes else boxes[out_i]
    assert torch.equal(out_b, src)
    # same as batched NMS over the thresholded (row, class) candidates
    rows, labels = (scores > 0.3).nonzero(as_tuple=True)
    cand = boxes[rows, labels] if per_class_boxes else boxes[rows]
    keep = batched_nms_rotated(cand, scores[rows, labels], labels, 0.2)[:25]
    assert torch.equal(out_i, rows[keep]) and torch.equal(out_l, labels[keep])
    # score factors multiply in
    f = torch.full((60,), 0.5, dtype=torch.float64)
    _, s2, _, _ = multiclass_nms_rotated(boxes, scores, 0.3, 0.2, -1, score_factors=f)
    assert (s2 > 0.3).all() and s2.max() <= 0.5


def test_bad_arguments():
    b = torch.rand(5, 5)
    with pytest.raises(ValueError, match='scores'):
        nms_rotated(b, torch.rand(4), 0.5)
    with pytest.raises(ValueError, match='idxs'):
        batched_nms_rotated(b, torch.rand(5), torch.zeros(4, dtype=torch.long), 0.5)
    with pytest.raises(ValueError, match='multi_bboxes'):
        multiclass_nms_rotated(torch.rand(5, 2, 5), torch.rand(5, 3), 0.1, 0.5)
