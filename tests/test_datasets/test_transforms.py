"""Transforms keep images and boxes aligned.

Alignment is checked by rendering: each box is painted filled into its own image channel, the image
and boxes go through the transform, and the transformed boxes are rendered again and compared with
the transformed image (mask IoU). Covers flips (3 directions x 3 angle versions), rotations, resizes
(uniform and not), crops, padding and packing (ignored objects apart).
"""
import math

import cv2
import numpy as np
import pytest
import torch

from rotated_ld.datasets.transforms import (
    ConvertBoxType,
    LoadAnnotations,
    PackDetInputs,
    Pad,
    RandomCrop,
    RandomFlip,
    RandomResize,
    RandomRotate,
    Resize,
    flip,
    rotate,
)
from rotated_ld.registry import TRANSFORMS
from rotated_ld.structures.bbox import ANGLE_RANGES, rbox2poly

H, W = 160, 200  # non-square on purpose


def render(boxes: np.ndarray, shape=(H, W)) -> list:
    """One boolean mask per box (hbox / rbox / qbox), drawn with sub-pixel precision."""
    masks = []
    for b in boxes:
        if len(b) == 5:
            poly = np.asarray(rbox2poly(torch.tensor(b, dtype=torch.float64))).reshape(4, 2)
        elif len(b) == 4:
            poly = np.array([[b[0], b[1]], [b[2], b[1]], [b[2], b[3]], [b[0], b[3]]])
        else:
            poly = np.asarray(b).reshape(4, 2)
        m = np.zeros(shape, np.uint8)
        # pixel i covers [i, i+1): cv2 draws around integer centres, hence -0.5
        cv2.fillPoly(m, [np.round((poly - 0.5) * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
        masks.append(m.astype(bool))
    return masks


def iou(a, b):
    return (a & b).sum() / max((a | b).sum(), 1)


def make_results(box_type='rbox', angle_version='le90', seed=0):
    rng = np.random.default_rng(seed)
    rboxes = np.array([[60, 50, 60, 24, 0.4], [140, 110, 50, 30, -1.1], [100, 80, 40, 40, 0.0]], np.float32)
    rboxes[:, :2] += rng.uniform(-5, 5, (3, 2))
    polys = np.asarray(rbox2poly(torch.tensor(rboxes, dtype=torch.float64)), np.float32)
    masks = render(rboxes)
    img = np.stack([m.astype(np.uint8) * 255 for m in masks], -1)
    if box_type == 'hbox':
        hb = np.array([[p[0::2].min(), p[1::2].min(), p[0::2].max(), p[1::2].max()] for p in polys])
        hmasks = render(hb)
        img = np.stack([m.astype(np.uint8) * 255 for m in hmasks], -1)
        instances = [dict(bbox=b.tolist(), bbox_label=i, ignore_flag=0) for i, b in enumerate(hb)]
    else:
        instances = [dict(bbox=p.tolist(), bbox_label=i, ignore_flag=int(i == 2)) for i, p in enumerate(polys)]
    results = dict(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2], instances=instances)
    results = LoadAnnotations(box_type='hbox' if box_type == 'hbox' else 'qbox')(results)
    if box_type == 'rbox':
        results = ConvertBoxType(dict(gt_bboxes='rbox'), angle_version=angle_version)(results)
    return results


def assert_aligned(results, thr=0.9):
    img, boxes = results['img'], results['gt_bboxes']
    masks = render(boxes, img.shape[:2])
    labels = results['gt_bboxes_labels']
    assert len(masks) == len(labels)
    for m, lab in zip(masks, labels):
        assert m.sum() > 50
        assert iou(m, img[..., lab] > 127) > thr, (lab, iou(m, img[..., lab] > 127))


@pytest.mark.parametrize('angle_version', ['oc', 'le90', 'le135'])
@pytest.mark.parametrize('direction', ['horizontal', 'vertical', 'diagonal'])
def test_flip_keeps_rboxes_aligned(direction, angle_version):
    res = make_results('rbox', angle_version)
    assert_aligned(res, 0.95)
    before = res['gt_bboxes'].copy()
    res = flip(res, direction)
    assert_aligned(res, 0.95)
    lo, hi = ANGLE_RANGES[angle_version]
    t = res['gt_bboxes'][:, 4]
    assert ((t >= lo - 1e-5) & (t < hi + 1e-5)).all()
    res = flip(res, direction)  # flipping twice is the identity
    np.testing.assert_allclose(res['gt_bboxes'][:, :4], before[:, :4], atol=1e-3)


@pytest.mark.parametrize('box_type', ['hbox', 'qbox'])
@pytest.mark.parametrize('direction', ['horizontal', 'vertical', 'diagonal'])
def test_flip_hbox_qbox(box_type, direction):
    res = flip(make_results(box_type), direction)
    assert_aligned(res, 0.95)


@pytest.mark.parametrize('angle', [30.0, -45.0, 90.0, 180.0, 17.5])
@pytest.mark.parametrize('angle_version', ['oc', 'le90', 'le135'])
def test_rotate_keeps_rboxes_aligned(angle, angle_version):
    res = rotate(make_results('rbox', angle_version), angle)
    assert res['rotate_angle'] == angle
    assert_aligned(res, 0.9)
    lo, hi = ANGLE_RANGES[angle_version]
    t = res['gt_bboxes'][:, 4]
    assert ((t >= lo - 1e-5) & (t < hi + 1e-5)).all()


def test_rotate_qbox_and_hbox():
    assert_aligned(rotate(make_results('qbox'), 33.0), 0.9)
    res = rotate(make_results('hbox'), 90.0)  # 90 deg about the centre of a non-square image: still exact boxes
    assert res['gt_bboxes'].shape == (len(res['gt_bboxes_labels']), 4)


def test_rotate_drops_boxes_that_leave_the_image():
    res = make_results('rbox')
    res['gt_bboxes'][0, :2] = (8, 8)  # a box in the top-left corner
    res = rotate(res, 45.0)  # its centre leaves the image
    assert res['gt_bboxes_labels'].tolist() == [1, 2]
    assert res['gt_ignore_flags'].tolist() == [False, True]
    assert len(res['gt_bboxes']) == 2


def test_random_rotate_rect_classes_and_angles(monkeypatch):
    seen = set()
    t = RandomRotate(prob=1.0, angle_range=180, rect_obj_labels=[2])
    for s in range(10):
        seen.add(t(make_results('rbox', seed=s))['rotate_angle'])
    assert seen <= {90.0, 180.0, -90.0, -180.0}
    t = RandomRotate(prob=1.0, angles=[15, 30])
    res = make_results('rbox')
    res['gt_bboxes_labels'][:] = 0
    assert t(res)['rotate_angle'] in (15, 30)
    assert RandomRotate(prob=0.0)(make_results())['rotate_angle'] == 0.0


def test_random_flip_probabilities():
    import random
    random.seed(0)
    t = RandomFlip(prob=0.75, direction=['horizontal', 'vertical', 'diagonal'])
    dirs = [t(make_results())['flip_direction'] for _ in range(120)]
    counts = {d: dirs.count(d) for d in (None, 'horizontal', 'vertical', 'diagonal')}
    assert all(15 <= c <= 50 for c in counts.values()), counts
    with pytest.raises(ValueError, match='direction'):
        RandomFlip(prob=0.5, direction='sideways')


@pytest.mark.parametrize('box_type', ['rbox', 'qbox', 'hbox'])
def test_resize_keep_ratio_and_scale_factor(box_type):
    res = Resize(scale=(400, 400), keep_ratio=True)(make_results(box_type))
    # 200x160 -> factor min(400/200, 400/160) = 2
    assert res['img_shape'] == (320, 400) and res['scale_factor'] == (2.0, 2.0)
    assert_aligned(res, 0.9)
    res = Resize(scale=(300, 100), keep_ratio=False)(make_results(box_type))
    assert res['img_shape'] == (100, 300) and res['scale_factor'] == pytest.approx((1.5, 0.625))
    if box_type != 'rbox':  # a non-uniformly scaled rectangle is a parallelogram: rbox = its min-area box
        assert_aligned(res, 0.85)
    res = Resize(scale_factor=0.5)(Resize(scale=(400, 400), keep_ratio=True)(make_results(box_type)))
    assert res['scale_factor'] == (1.0, 1.0)  # chained resizes compose


def test_random_resize_range():
    t = RandomResize(scale=[(1333, 480), (1333, 800)], keep_ratio=True)
    for _ in range(5):
        h, w = t(make_results('hbox'))['img_shape']
        assert 480 <= min(h, w) <= 800 + 1


@pytest.mark.parametrize('box_type', ['rbox', 'hbox'])
def test_random_crop(box_type):
    import random
    random.seed(3)
    res = RandomCrop(crop_size=(120, 100))(make_results(box_type))
    assert res is not None and res['img'].shape[:2] == (100, 120)
    x0, y0 = res['crop_offset']
    if box_type == 'rbox':
        c = res['gt_bboxes'][:, :2]
        assert ((c >= 0) & (c < (120, 100))).all()
        masks = render(res['gt_bboxes'], (100, 120))
        for m, lab in zip(masks, res['gt_bboxes_labels']):
            visible = res['img'][..., lab] > 127
            assert (m & visible).sum() / max(visible.sum(), 1) > 0.9
    else:
        assert (res['gt_bboxes'][:, 2:] <= (120, 100)).all() and (res['gt_bboxes'] >= 0).all()
    empty = make_results(box_type)
    empty['gt_bboxes'] = empty['gt_bboxes'][:0]
    for k in ('gt_bboxes_labels', 'gt_ignore_flags'):
        empty[k] = empty[k][:0]
    assert RandomCrop(crop_size=(50, 50))(empty) is not None  # images without objects are kept


def test_pad_and_pack():
    res = make_results('rbox')
    res = Pad(size_divisor=32, pad_val=dict(img=7))(res)
    assert res['img'].shape[:2] == (160, 224) and res['pad_shape'] == (160, 224)
    assert (res['img'][:, 200:] == 7).all()
    res['img_id'], res['img_path'], res['flip'], res['flip_direction'] = 'x', 'x.png', False, None
    out = PackDetInputs()(res)
    assert out['inputs'].dtype == torch.uint8 and out['inputs'].shape == (3, 160, 224)
    s = out['data_samples']
    assert s.gt_instances.bboxes.shape == (2, 5) and s.gt_instances.labels.tolist() == [0, 1]
    assert s.ignored_instances.bboxes.shape == (1, 5) and s.ignored_instances.labels.tolist() == [2]
    assert s.metainfo['img_id'] == 'x' and s.metainfo['angle_version'] == 'le90'
    assert s.metainfo['pad_shape'] == (160, 224)
    res = make_results('rbox')
    res['gt_ignore_flags'][:] = True
    out = PackDetInputs()(res)
    assert out['data_samples'].gt_instances.bboxes.shape == (0, 5)


def test_registered_and_qbox_to_rbox_matches_geometry():
    for name in ('LoadImageFromFile', 'LoadAnnotations', 'ConvertBoxType', 'Resize', 'RResize', 'RandomFlip',
                 'RRandomFlip', 'RandomRotate', 'RandomCrop', 'RRandomCrop', 'Pad', 'PackDetInputs',
                 'RandomResize'):
        assert TRANSFORMS.get(name) is not None, name
    res = make_results('rbox', 'le90')
    b = res['gt_bboxes']
    assert (b[:, 2] >= b[:, 3] - 1e-4).all()  # le90: w >= h
    assert b[0, 2] == pytest.approx(60, abs=1e-3) and b[0, 4] == pytest.approx(0.4, abs=1e-4)
    assert math.isclose(b[1, 4], -1.1, abs_tol=1e-4)


def test_load_image(tmp_path):
    from rotated_ld.datasets.transforms import LoadImageFromFile
    p = tmp_path / 'a.png'
    cv2.imwrite(str(p), np.full((5, 7, 3), 9, np.uint8))
    r = LoadImageFromFile()(dict(img_path=str(p)))
    assert r['img'].shape == (5, 7, 3) and r['ori_shape'] == (5, 7)
    with pytest.raises(FileNotFoundError, match='missing.png'):
        LoadImageFromFile()(dict(img_path=str(tmp_path / 'missing.png')))


@pytest.mark.parametrize('direction', ['horizontal', 'vertical', 'diagonal'])
def test_flip_exact_on_pixel_grid(direction):
    """Integer boxes on the pixel grid: the flipped image mask and the flipped box agree exactly."""
    img = np.zeros((H, W, 3), np.uint8)
    img[20:50, 30:90, 0] = 255  # hbox (30, 20, 90, 50)
    res = dict(img=img, gt_bboxes=np.array([[30, 20, 90, 50]], np.float32), gt_bboxes_labels=np.array([0]),
               gt_ignore_flags=np.array([False]))
    res = flip(res, direction)
    x1, y1, x2, y2 = res['gt_bboxes'][0].astype(int)
    expect = np.zeros((H, W), bool)
    expect[y1:y2, x1:x2] = True
    np.testing.assert_array_equal(res['img'][..., 0] > 0, expect)
    rb = dict(img=img, gt_bboxes=np.array([[60, 35, 60, 30, 0.0]], np.float32), angle_version='le90')
    rb = flip(rb, direction)
    cx, cy = rb['gt_bboxes'][0, :2]
    assert (cx, cy) == ((x1 + x2) / 2, (y1 + y2) / 2)
