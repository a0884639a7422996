"""Confusion matrix (rotated_ld.evaluation.functional.confusion) against a hand-computed case and a
brute-force loop over every (detection, ground truth) pair with shapely polygon IoU, written from
mmdetection's rules (tools/analysis_tools/confusion_matrix.py: analyze_per_img_dets)."""
import numpy as np
import pytest
import shapely

from rotated_ld.evaluation.functional import ImageDets, ImageGts, confusion_matrix, rbox2poly_np


def _square(cx, cy, s=10.0):
    return [cx - s / 2, cy - s / 2, cx + s / 2, cy - s / 2, cx + s / 2, cy + s / 2, cx - s / 2, cy + s / 2]


def test_hand_case():
    # classes 0, 1, 2. GT: A(0) at 0, B(1) at 100, C(2) at 200 (ignored), D(0) at 300 (missed)
    gts = ImageGts(np.array([_square(0, 0), _square(100, 0), _square(200, 0), _square(300, 0)]),
                   np.array([0, 1, 2, 0]), np.array([False, False, True, False]))
    dets = ImageDets(np.array([_square(0, 1), _square(100, 1), _square(200, 1), _square(500, 0), _square(0, 0)]),
                     np.array([0.9, 0.8, 0.7, 0.6, 0.1]),  # the last is under score_thr
                     np.array([0, 0, 1, 2, 1]))
    cm = confusion_matrix([dets], [gts], 3, score_thr=0.3, iou_thr=0.5)
    expect = np.zeros((4, 4), int)
    expect[0, 0] = 1  # A found as class 0
    expect[1, 0] = 1  # B detected as class 0 (confused) ...
    expect[1, 3] = 1  # ... so B is also missed: no class-1 detection on it
    expect[0, 3] = 1  # D missed
    expect[3, 2] = 1  # the detection at 500 overlaps nothing: background false positive
    # the class-1 detection on the ignored C: neither counted nor a false positive
    np.testing.assert_array_equal(cm, expect)


def _brute(dets, gts, C, score_thr, iou_thr):
    cm = np.zeros((C + 1, C + 1), int)
    for d, g in zip(dets, gts):
        gp = [shapely.Polygon(np.reshape(b, (4, 2))) for b in g.boxes]
        found = [False] * len(gp)
        for box, score, label in zip(d.boxes, d.scores, d.labels):
            if score < score_thr:
                continue
            p, matched = shapely.Polygon(np.reshape(box, (4, 2))), 0
            for j, q in enumerate(gp):
                union = p.union(q).area
                if union > 0 and p.intersection(q).area / union >= iou_thr:
                    matched += 1
                    if g.ignore[j]:
                        continue
                    cm[g.labels[j], label] += 1
                    found[j] = found[j] or g.labels[j] == label
            if not matched:
                cm[C, label] += 1
        for j in range(len(gp)):
            if not found[j] and not g.ignore[j]:
                cm[g.labels[j], C] += 1
    return cm


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_matches_brute_force_rotated(seed):
    rng = np.random.default_rng(seed)
    C, dets, gts = 4, [], []
    for _ in range(5):
        g = rng.uniform([0, 0, 8, 4, -np.pi], [120, 120, 30, 20, np.pi], (12, 5))
        d = np.concatenate([g[rng.integers(0, 12, 15)] + rng.normal(0, [2, 2, 2, 2, 0.2], (15, 5)),
                            rng.uniform([0, 0, 8, 4, -np.pi], [120, 120, 30, 20, np.pi], (5, 5))])
        d[:, 2:4] = np.abs(d[:, 2:4]) + 1
        gts.append(ImageGts(rbox2poly_np(g), rng.integers(0, C, 12), rng.random(12) < 0.15))
        dets.append(ImageDets(rbox2poly_np(d), rng.random(20), rng.integers(0, C, 20)))
    got = confusion_matrix(dets, gts, C, score_thr=0.3, iou_thr=0.5)
    np.testing.assert_array_equal(got, _brute(dets, gts, C, 0.3, 0.5))
    assert got[:C, :C].sum() > 0 and got[C].sum() > 0 and got[:, C].sum() > 0


def test_empty_images_and_bad_labels():
    none = ImageDets(np.zeros((0, 8)), np.zeros(0), np.zeros(0, int))
    gts = ImageGts(np.array([_square(0, 0)]), np.array([1]), np.array([False]))
    cm = confusion_matrix([none], [gts], 2)
    assert cm[1, 2] == 1 and cm.sum() == 1
    dets = ImageDets(np.array([_square(0, 0)]), np.array([0.9]), np.array([1]))
    cm = confusion_matrix([dets], [ImageGts(np.zeros((0, 8)), np.zeros(0, int), np.zeros(0, bool))], 2)
    assert cm[2, 1] == 1 and cm.sum() == 1
    hdets = ImageDets(np.array([[0, 0, 10, 10.]]), np.array([0.9]), np.array([0]))
    hgts = ImageGts(np.array([[1, 1, 10, 10.]]), np.array([0]), np.array([False]))
    assert confusion_matrix([hdets], [hgts], 1)[0, 0] == 1  # horizontal boxes, IoU 0.81
    with pytest.raises(ValueError, match='outside'):
        confusion_matrix([ImageDets(dets.boxes, dets.scores, np.array([5]))], [gts], 2)
