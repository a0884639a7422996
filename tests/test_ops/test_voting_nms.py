"""Score-voting Cluster-DIoU-NMS: voting off == greedy DIoU_β-NMS; voting hand-checked. CPU: ~1 s."""
import math

import pytest
import torch
from torchvision.ops import batched_nms

from rotated_ld.models.utils.nms import get_nms
from rotated_ld.ops.voting_nms import cluster_nms_keep, diou_matrix, voting_cluster_diou_nms
from tests.conftest import DEVICES


def _diou_beta(a, b, beta=0.8):
    """One pair, plain python, from the formula."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    rho2 = ((a[0] + a[2] - b[0] - b[2]) / 2) ** 2 + ((a[1] + a[3] - b[1] - b[3]) / 2) ** 2
    c2 = (max(a[2], b[2]) - min(a[0], b[0])) ** 2 + (max(a[3], b[3]) - min(a[1], b[1])) ** 2
    return inter / union - (rho2 / (c2 + 1e-7)) ** beta


def _greedy(boxes, scores, labels, thr):
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    keep = []
    for i in order:
        d = [_diou_beta(boxes[k], boxes[i]) for k in keep if labels[i] == labels[k]]
        # float64 here vs float32 in the op: well posed only away from the threshold
        assert all(abs(v - thr) > 1e-5 for v in d), 'a DIoU at the threshold: change the seed'
        if all(v <= thr for v in d):
            keep.append(i)
    return keep


def _random_set(n, seed, classes=3):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 60
    wh = torch.rand(n, 2, generator=g) * 30 + 5
    scores = torch.rand(n, generator=g)
    return torch.cat([xy, xy + wh], 1), scores, torch.randint(0, classes, (n,), generator=g)


@pytest.mark.parametrize('seed', range(5))
@pytest.mark.parametrize('thr', [0.3, 0.6])
def test_voting_off_equals_greedy_diou_nms(seed, thr):
    boxes, scores, labels = _random_set(80, seed)
    _, out_scores, keep = voting_cluster_diou_nms(boxes, scores, labels, thr, voting=False)
    ref = _greedy(boxes.tolist(), scores.tolist(), labels.tolist(), thr)
    assert keep.tolist() == ref
    assert torch.all(out_scores[:-1] >= out_scores[1:])


def test_diou_matrix_matches_formula():
    boxes, _, _ = _random_set(12, 7)
    D = diou_matrix(boxes)
    b = boxes.tolist()
    ref = torch.tensor([[_diou_beta(x, y) for y in b] for x in b])
    torch.testing.assert_close(D, ref, atol=1e-5, rtol=1e-5)


def test_cluster_keep_is_a_fixed_point_of_greedy_chain():
    # chain: 0 suppresses 1, 1 would suppress 2 but is itself suppressed -> keep 0 and 2
    D = torch.tensor([[1., .9, .1], [.9, 1., .9], [.1, .9, 1.]])
    assert cluster_nms_keep(D, 0.6).tolist() == [True, False, True]


def test_voting_hand_case():
    b1, b2 = [0., 0., 10., 10.], [1., 0., 11., 10.]
    boxes = torch.tensor([b1, b2])
    scores = torch.tensor([0.9, 0.8])
    out, s, keep = voting_cluster_diou_nms(boxes, scores, torch.zeros(2, dtype=torch.long), 0.6)
    # hand: IoU = 90/110, rho² = 1, c² = 11² + 10² -> D = 0.8182 − (1/221)^0.8 = 0.8048
    D = 90 / 110 - (1 / 221) ** 0.8
    assert D == pytest.approx(0.80485, abs=1e-4)
    w1, w2 = 0.9, math.exp(-(1 - D) ** 2 / 0.025) * 0.8     # self weight exp(0)·s
    x1 = (w1 * 0 + w2 * 1) / (w1 + w2)
    assert keep.tolist() == [0] and s.tolist() == pytest.approx([0.9])
    torch.testing.assert_close(out, torch.tensor([[x1, 0., 10 + x1, 10.]]), atol=1e-5, rtol=0)
    assert 0 < out[0, 0] < 1   # moved toward the suppressed box, by less than half


def test_voting_ignores_low_overlap_and_other_classes():
    boxes = torch.tensor([[0., 0., 10., 10.], [3., 0., 13., 10.], [1., 0., 11., 10.]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    labels = torch.tensor([0, 0, 1])
    out, _, keep = voting_cluster_diou_nms(boxes, scores, labels, 0.6)
    # box 1: IoU 70/130 ≈ 0.54 < 0.6 kept, and 0.54 < 0.7 so it does not vote (only exp(-40)·s)
    assert keep.tolist() == [0, 1, 2]
    torch.testing.assert_close(out, boxes, atol=1e-6, rtol=0)


@pytest.mark.parametrize('device', DEVICES)
def test_nms_dispatch(device):
    """The one dispatcher (models/utils/nms.get_nms) resolves the horizontal types."""
    boxes, scores, labels = (t.to(device) for t in _random_set(50, 1))
    b, s, keep = get_nms(dict(type='nms', iou_threshold=0.5))(boxes, scores, labels)
    assert keep.tolist() == batched_nms(boxes, scores, labels, 0.5).tolist()
    b, s, keep = get_nms(dict(type='voting_cluster_diounms', iou_threshold=0.6,
                              max_num=5))(boxes, scores, labels)
    assert b.shape == (5, 4) and s.shape == (5,) and keep.device == boxes.device
    b, s, keep = get_nms(dict(type='cluster_diounms', iou_threshold=0.6))(
        boxes[:0], scores[:0], labels[:0])
    assert b.shape == (0, 4) and keep.shape == (0,)
    # the mmdet 2.x spelling iou_thr is the same option for every type
    _, _, k1 = get_nms(dict(type='cluster_diounms', iou_thr=0.3))(boxes, scores, labels)
    _, _, k2 = get_nms(dict(type='cluster_diounms', iou_threshold=0.3))(boxes, scores, labels)
    assert torch.equal(k1, k2)
    with pytest.raises(ValueError, match='nms type'):
        get_nms(dict(type='soft_nms'))
    with pytest.raises(ValueError, match="unknown options \\['vote_thr'\\]"):
        get_nms(dict(type='voting_cluster_diounms', vote_thr=0.6))


def test_max_candidates_cap():
    boxes, scores, labels = _random_set(40, 2)
    _, _, keep = voting_cluster_diou_nms(boxes, scores, labels, 0.6, max_candidates=10)
    top10 = set(scores.argsort(descending=True)[:10].tolist())
    assert set(keep.tolist()) <= top10


def test_selectable_from_head_test_cfg():
    """``test_cfg.nms=dict(type='voting_cluster_diounms', ...)`` resolves through the heads' NMS hook."""
    from rotated_ld.models.utils.nms import multiclass_nms

    boxes, scores, labels = _random_set(60, 4)
    b, s, lab, keep = multiclass_nms(boxes, scores, labels,
                                     dict(type='voting_cluster_diounms', iou_threshold=0.6), 7)
    ref_b, ref_s, ref_keep = voting_cluster_diou_nms(boxes, scores, labels, 0.6)
    assert keep.tolist() == ref_keep[:7].tolist() and torch.equal(lab, labels[keep])
    torch.testing.assert_close(b, ref_b[:7])
    _, _, _, keep = multiclass_nms(boxes, scores, labels, dict(type='cluster_diounms',
                                                               iou_threshold=0.6))
    assert keep.tolist() == _greedy(boxes.tolist(), scores.tolist(), labels.tolist(), 0.6)


# ------------------------------------------------------------------------------ rotated variant
def _as_le90(xyxy):
    """Axis-aligned xyxy boxes -> le90 rboxes (w >= h: tall boxes turn by -pi/2)."""
    cx, cy = (xyxy[:, 0] + xyxy[:, 2]) / 2, (xyxy[:, 1] + xyxy[:, 3]) / 2
    w, h = xyxy[:, 2] - xyxy[:, 0], xyxy[:, 3] - xyxy[:, 1]
    tall = h > w
    t = torch.where(tall, torch.full_like(w, -math.pi / 2), torch.zeros_like(w))
    return torch.stack([cx, cy, torch.maximum(w, h), torch.minimum(w, h), t], 1)


def test_rotated_at_axis_aligned_equals_horizontal():
    from rotated_ld.ops.voting_nms import rbox_diou_matrix, voting_cluster_diounms_rotated

    boxes, scores, labels = _random_set(40, 5)
    rb = _as_le90(boxes)
    torch.testing.assert_close(rbox_diou_matrix(rb), diou_matrix(boxes), atol=1e-4, rtol=0)
    hb, hs, hkeep = voting_cluster_diou_nms(boxes, scores, labels, 0.5, voting=False)
    dets, keep = voting_cluster_diounms_rotated(rb, scores, labels, 0.5, voting=False)
    assert keep.tolist() == hkeep.tolist()
    assert keep.tolist() == _greedy(boxes.tolist(), scores.tolist(), labels.tolist(), 0.5)
    # voting on axis-aligned wide boxes (angle 0) = horizontal voting
    wide = torch.tensor([[0., 0., 20., 10.], [1., 0., 21., 10.], [0., 1., 20., 11.]])
    s3, l3 = torch.tensor([0.9, 0.8, 0.7]), torch.zeros(3, dtype=torch.long)
    hb, _, _ = voting_cluster_diou_nms(wide, s3, l3, 0.6)
    dets, _ = voting_cluster_diounms_rotated(_as_le90(wide), s3, l3, 0.6)
    torch.testing.assert_close(dets[:, :5], _as_le90(hb), atol=1e-4, rtol=0)


def test_rotated_voting_averages_angle_on_the_circle():
    from rotated_ld.ops.voting_nms import voting_cluster_diounms_rotated

    d = 0.02
    rb = torch.tensor([[50., 50., 40., 10., math.pi / 2 - d], [50., 50., 40., 10., -math.pi / 2 + d]])
    dets, keep = voting_cluster_diounms_rotated(rb, torch.tensor([0.9, 0.9]),
                                                torch.zeros(2, dtype=torch.long), 0.5)
    assert keep.tolist() == [0]
    t = dets[0, 4].item()
    # the circular mean lies between the two orientations (±90° ∓ d); a linear mean would give 0°
    assert abs(abs(t) - math.pi / 2) < d
    torch.testing.assert_close(dets[0, :4], rb[0, :4])
    # other angle versions round-trip through le90
    from rotated_ld.structures.bbox import convert_rbox_version

    oc = convert_rbox_version(rb, 'le90', 'oc')
    dets_oc, _ = voting_cluster_diounms_rotated(oc, torch.tensor([0.9, 0.9]),
                                                torch.zeros(2, dtype=torch.long), 0.5,
                                                angle_version='oc')
    back = convert_rbox_version(dets_oc[:, :5], 'oc', 'le90')
    assert abs(abs(back[0, 4].item()) - math.pi / 2) < d


def test_rotated_selectable_from_head_test_cfg():
    from rotated_ld.models.utils.nms import multiclass_nms

    rb = _as_le90(_random_set(30, 6)[0])
    scores, labels = torch.rand(30), torch.randint(0, 2, (30,))
    b, s, lab, keep = multiclass_nms(rb, scores, labels, dict(
        type='voting_cluster_diounms_rotated', iou_threshold=0.3, angle_version='le90'), 5)
    assert b.shape == (len(keep), 5) and len(keep) <= 5 and torch.equal(lab, labels[keep])
