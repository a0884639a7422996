"""Mean AP with DOTA_devkit Task1 rules: hand-computed answers and a literal-loop reference (< 3 s CPU)."""
import numpy as np
import pytest

from rotated_ld.evaluation.functional import COCO_IOU_THRS, average_precision, eval_map

from ._helpers import random_dota_set, rect, reference_voc_eval, square

CLASSES = ('a', 'b')


def _one(dets, gts, difficult=(), scores=None, labels=None, **kw):
    """One image, class 'a' unless labels given."""
    dets = np.asarray(dets, float).reshape(-1, 8)
    scores = np.linspace(0.9, 0.1, len(dets)) if scores is None else np.asarray(scores, float)
    det = dict(bboxes=dets, scores=scores, labels=np.zeros(len(dets), int) if labels is None else labels)
    gts = np.asarray(gts, float).reshape(-1, 8)
    diff = np.asarray(difficult, float).reshape(-1, 8)
    ann = dict(bboxes=gts, labels=np.zeros(len(gts), int), bboxes_ignore=diff, labels_ignore=np.zeros(len(diff), int))
    return eval_map([det], [ann], CLASSES, return_curves=True, **kw)


def test_perfect_detections_ap_1():
    gts = [square(0, 0, 10), square(20, 0, 10), square(40, 40, 25)]
    r = _one(gts, gts)
    assert r.ap[0, 0] == 1.0 and r.map == 1.0 and r.recall[0, 0] == 1.0
    assert r.num_gts.tolist() == [3, 0] and r.num_dets.tolist() == [3, 0]
    assert r.valid.tolist() == [True, False]  # class 'b' has neither GT nor dets: not in the mean


def test_duplicate_is_false_positive():
    gts = [square(0, 0, 10), square(50, 50, 10)]
    dets = [square(0, 0, 10), square(0.5, 0, 10), square(50, 50, 10)]  # 2nd hits the taken GT
    r = _one(dets, gts)
    rec, prec = r.curves[0]
    np.testing.assert_allclose(rec, [0.5, 0.5, 1.0])
    np.testing.assert_allclose(prec, [1.0, 0.5, 2 / 3])
    # 11 points: t <= 0.5 -> 1 (6 points), t > 0.5 -> 2/3 (5 points)
    assert r.ap[0, 0] == pytest.approx((6 + 5 * 2 / 3) / 11)


def test_detection_on_difficult_is_ignored():
    gts = [square(0, 0, 10)]
    diff = [square(100, 100, 10)]
    r = _one([square(100, 100, 10), square(0, 0, 10)], gts, difficult=diff)
    rec, prec = r.curves[0]
    np.testing.assert_allclose(rec, [0.0, 1.0])  # first row: neither TP nor FP
    np.testing.assert_allclose(prec, [0.0, 1.0])
    assert r.ap[0, 0] == 1.0 and r.num_gts[0] == 1


def test_best_match_difficult_no_fallback():
    # the detection overlaps a normal GT a bit but a difficult GT best: ignored, not a TP
    gts = [rect(0, 0, 10, 10)]
    diff = [rect(2, 0, 12, 10)]
    r = _one([rect(2, 0, 12, 10)], gts, difficult=diff)
    assert r.curves[0][0].tolist() == [0.0] and r.ap[0, 0] == 0.0


def test_iou_exactly_half_is_not_a_match():
    gts = [rect(0, 0, 10, 10)]
    det = [rect(0, 0, 10, 5)]  # IoU = 50 / 100 = 0.5 exactly
    assert _one(det, gts).ap[0, 0] == 0.0
    assert _one(det, gts, strict=False).ap[0, 0] == 1.0  # VOC rule (>=)
    assert _one([rect(0, 0, 10, 5.01)], gts).ap[0, 0] == 1.0


def test_highest_iou_gt_taken_means_fp_no_second_choice():
    gts = [rect(0, 0, 10, 10), rect(1, 0, 11, 10)]
    dets = [rect(0, 0, 10, 10), rect(0.2, 0, 10.2, 10)]  # both prefer GT 0
    r = _one(dets, gts)
    rec, prec = r.curves[0]
    np.testing.assert_allclose(prec, [1.0, 0.5])


def test_11point_vs_area_on_known_pr_curve():
    # tp pattern 1 0 1 0 0 1 with npos 4: P = 1, .5, 2/3, .5, .4, .5 ; R = .25 .25 .5 .5 .5 .75
    g = [square(100 * i, 0, 10) for i in range(4)]
    far = [square(1000 + 50 * i, 1000, 10) for i in range(3)]
    dets = [g[0], far[0], g[1], far[1], far[2], g[2]]
    r11 = _one(dets, g)
    ra = _one(dets, g, mode='area')
    assert r11.ap[0, 0] == pytest.approx(6 / 11)  # 3 * 1 + 3 * 2/3 + 2 * 0.5
    assert ra.ap[0, 0] == pytest.approx(0.25 * 1 + 0.25 * 2 / 3 + 0.25 * 0.5)
    assert r11.recall[0, 0] == 0.75


def test_average_precision_direct():
    rec = np.array([0.1, 0.3, 0.3])
    prec = np.array([1.0, 0.5, 0.4])
    # devkit's np.arange(0, 1.1, 0.1) holds 0.30000000000000004 > 0.3: only t=0, .1, .2 count
    assert average_precision(rec, prec, '11points') == pytest.approx((1 + 1 + 0.5) / 11)
    assert average_precision(rec, prec, 'area') == pytest.approx(0.1 * 1 + 0.2 * 0.5)
    assert average_precision(np.zeros(0), np.zeros(0), '11points') == 0.0
    with pytest.raises(ValueError, match='mode'):
        average_precision(rec, prec, 'coco')


def test_empty_classes_devkit_and_mmdet_rules():
    # class 'a' perfect; class 'b' has only a false positive, no ground truth
    det = dict(bboxes=np.array([square(0, 0, 10), square(50, 50, 10)], float), scores=np.array([0.9, 0.8]),
               labels=np.array([0, 1]))
    ann = dict(bboxes=np.array([square(0, 0, 10)], float), labels=np.array([0]))
    r = eval_map([det], [ann], CLASSES)
    assert r.ap[:, 0].tolist() == [1.0, 0.0] and r.map == 0.5  # devkit: 0 AP counted in the mean
    r = eval_map([det], [ann], CLASSES, empty_class_rule='mmdet')
    assert r.map == 1.0
    # nothing at all
    r = eval_map([dict()], [dict()], CLASSES)
    assert r.map == 0.0 and not r.valid.any()
    # ground truth without detections: AP 0, counted
    r = eval_map([dict(bboxes=np.zeros((0, 8)), scores=np.zeros(0), labels=np.zeros(0))], [ann], CLASSES)
    assert r.map == 0.0 and r.valid.tolist() == [True, False]


def test_multiple_thresholds_and_table():
    gts = [rect(0, 0, 10, 10)]
    r = _one([rect(0, 0, 10, 8)], gts, iou_thrs=COCO_IOU_THRS)  # IoU 0.8
    assert r.mean_ap.tolist() == [1.0] * 6 + [0.0] * 4  # 0.8 itself is not a match (strict)
    assert r.map_at(0.75) == 1.0 and r.map_at(0.8) == 0.0
    tab = r.table()
    assert 'class' in tab and 'recall' in tab and 'mAP' in tab and '1.000' in tab
    d = r.to_dict()
    assert d['mAP']['0.5'] == 1.0 and d['classes']['a']['gts'] == 1


@pytest.mark.parametrize('use_07', [True, False])
@pytest.mark.parametrize('thr', [0.5, 0.75])
def test_matches_literal_devkit_loop(use_07, thr):
    rng = np.random.default_rng(7)
    dets, anns = random_dota_set(rng)
    ref = reference_voc_eval(dets, anns, 3, iou_thr=thr, use_07=use_07)
    res = eval_map(dets, anns, 3, iou_thrs=thr, mode='11points' if use_07 else 'area')
    assert (ref > 0).all()
    np.testing.assert_allclose(res.ap[:, 0], ref, atol=1e-12)


def test_hbox_path_same_matcher():
    det = dict(bboxes=np.array([[0, 0, 10, 10], [0, 0, 10, 10], [30, 30, 40, 40]], float),
               scores=np.array([0.9, 0.8, 0.7]), labels=np.array([0, 0, 1]))
    ann = dict(bboxes=np.array([[0, 0, 10, 10]], float), labels=np.array([0]),
               bboxes_ignore=np.array([[30, 30, 40, 40]], float), labels_ignore=np.array([1]))
    r = eval_map([det], [ann], CLASSES, box_type='hbox', strict=False, legacy_coordinate=True,
                 empty_class_rule='mmdet')
    assert r.ap[0, 0] == 1.0 and r.num_dets.tolist() == [2, 1] and r.map == 1.0


def test_input_errors():
    ann = dict(bboxes=np.array([square(0, 0, 10)], float), labels=np.array([0]))
    bad = dict(bboxes=np.array([square(0, 0, 10)], float), scores=np.array([np.nan]), labels=np.array([0]))
    with pytest.raises(ValueError, match='NaN'):
        eval_map([bad], [ann], CLASSES)
    bad = dict(bboxes=np.array([square(0, 0, 10)], float), scores=np.array([0.5]), labels=np.array([5]))
    with pytest.raises(ValueError, match='label 5'):
        eval_map([bad], [ann], CLASSES)
    with pytest.raises(ValueError, match='2 detection entries for 1 images'):
        eval_map([bad, bad], [ann], CLASSES)


def test_wrong_box_layout_is_an_error():
    ann = dict(bboxes=np.array([square(0, 0, 10)], float), labels=np.array([0]))
    rb = dict(bboxes=np.array([[5, 5, 10, 10, 0.0]]), scores=np.array([0.5]), labels=np.array([0]))
    with pytest.raises(ValueError, match=r'expected \(N, 8\)'):
        eval_map([rb], [ann], CLASSES)
