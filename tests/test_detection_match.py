"""tests/detection_match.py: detection lists compared as sets (order-free, angle-convention-free)."""
import math

import pytest
import torch

from tests.detection_match import assert_same_detections, corners


def _dets(boxes, scores, labels):
    return dict(bboxes=torch.tensor(boxes), scores=torch.tensor(scores), labels=torch.tensor(labels))


def test_corners_hand_computed():
    # a 4 x 2 box at (10, 20) turned by 90°: corners span x 9..11, y 18..22
    c = corners([[10., 20., 4., 2., math.pi / 2]], rotated=True)[0]
    assert sorted(map(tuple, c.round(6).tolist())) == [(9., 18.), (9., 22.), (11., 18.), (11., 22.)]
    assert corners([[0., 0., 2., 1.]], rotated=False)[0].tolist() == [[0, 0], [2, 0], [2, 1], [0, 1]]


def test_same_set_in_another_order_and_angle_convention():
    a = _dets([[10., 20., 4., 2., 0.3], [50., 60., 8., 3., -1.2], [50., 60., 8., 3., -1.2]],
              [0.9, 0.5, 0.5], [1, 2, 2])
    # reversed order, the first box as (h, w, θ - π/2) and θ + π, scores within tolerance
    b = _dets([[50., 60., 8., 3., -1.2 + math.pi], [50., 60., 8., 3., -1.2], [10., 20., 2., 4., 0.3 - math.pi / 2]],
              [0.50001, 0.5, 0.9], [2, 2, 1])
    assert_same_detections(a, b, rotated=True, score_tol=1e-4, box_atol=1e-3)


@pytest.mark.parametrize('change', ['label', 'score', 'shift', 'angle', 'count'])
def test_differences_are_caught(change):
    a = _dets([[10., 20., 4., 2., 0.3], [50., 60., 8., 3., -1.2]], [0.9, 0.5], [1, 2])
    b = {k: v.clone() for k, v in a.items()}
    if change == 'label':
        b['labels'][1] = 0
    elif change == 'score':
        b['scores'][0] = 0.9 + 1e-3
    elif change == 'shift':
        b['bboxes'][0, 0] += 0.1
    elif change == 'angle':
        b['bboxes'][1, 4] += 0.05
    else:
        b = {k: v[:1] for k, v in b.items()}
    with pytest.raises(AssertionError):
        assert_same_detections(a, b, rotated=True, score_tol=1e-4, box_atol=1e-2)


def test_relative_tolerance_scales_with_box_size():
    a = _dets([[0., 0., 100., 50.]], [0.5], [0])
    b = _dets([[0.5, 0., 100.5, 50.]], [0.5], [0])
    with pytest.raises(AssertionError):
        assert_same_detections(a, b, rotated=False, score_tol=0, box_atol=0.1)
    assert_same_detections(a, b, rotated=False, score_tol=0, box_atol=0.1, box_rtol=1e-2)
