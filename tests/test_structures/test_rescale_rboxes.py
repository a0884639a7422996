"""Undoing a resize on rotated boxes (``structures.bbox.rescale_rboxes``) and its call sites.

Reference: shapely's ``affinity.scale`` of the box polygon (the exact image of the rectangle).
A non-uniform scale turns a rectangle into a parallelogram; what must hold exactly is:
uniform scales and axis-aligned boxes map to the exact image; for any angle the centre and the
two ends of the width axis map exactly (the rule the function documents). The rotated RetinaNet
head used to divide ``w`` by ``sx`` and ``h`` by ``sy`` whatever the angle (wrong for a vertical
width axis): ``test_retina_head_rescale_non_uniform`` failed before it called this function.
"""
import math

import numpy as np
import pytest
import shapely
import shapely.affinity
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rotated_ld.structures.bbox import rbox2poly, regularize_rboxes, rescale_rboxes


def scaled_corners(rbox, sx, sy):
    """(4, 2) corners of the exact image of the rectangle under ``(x, y) -> (x / sx, y / sy)``."""
    poly = shapely.Polygon(np.asarray(rbox2poly(np.asarray(rbox, np.float64))).reshape(4, 2))
    return np.asarray(shapely.affinity.scale(poly, 1 / sx, 1 / sy, origin=(0, 0)).exterior.coords)[:4]


def same_corners(rbox, corners, rel):
    """The corners of ``rbox`` are ``corners`` in some order (within ``rel`` of the coordinates' size)."""
    got = np.asarray(rbox2poly(np.asarray(rbox, np.float64))).reshape(4, 2)
    d = np.linalg.norm(got[:, None] - corners[None], axis=-1)
    tol = rel * (1 + np.abs(corners).max())
    return bool(d.min(1).max() <= tol and d.min(0).max() <= tol)


box = st.tuples(st.floats(-500, 500), st.floats(-500, 500), st.floats(1, 200), st.floats(1, 200),
                st.floats(-7, 7))
scale = st.floats(0.25, 4)


@settings(max_examples=200, deadline=None)
@given(b=box, s=scale)
def test_uniform_scale_is_exact(b, s):
    out = rescale_rboxes(np.array([b]), s, s)[0]
    assert same_corners(out, scaled_corners(b, s, s), 1e-12)
    assert out[4] == b[4]  # the angle is untouched


@settings(max_examples=200, deadline=None)
@given(b=box, sx=scale, sy=scale, k=st.integers(-4, 4))
def test_axis_aligned_boxes_are_exact(b, sx, sy, k):
    b = b[:4] + (k * math.pi / 2,)
    assert same_corners(rescale_rboxes(np.array([b]), sx, sy)[0], scaled_corners(b, sx, sy), 1e-12)


@settings(max_examples=200, deadline=None)
@given(b=box, sx=scale, sy=scale)
def test_centre_and_width_axis_ends_are_exact(b, sx, sy):
    cx, cy, w, _, t = b
    ends = np.array([[cx + w / 2 * math.cos(t), cy + w / 2 * math.sin(t)],
                     [cx - w / 2 * math.cos(t), cy - w / 2 * math.sin(t)]]) / [sx, sy]
    o = rescale_rboxes(np.array([b]), sx, sy)[0]
    got = np.array([[o[0] + o[2] / 2 * math.cos(o[4]), o[1] + o[2] / 2 * math.sin(o[4])],
                    [o[0] - o[2] / 2 * math.cos(o[4]), o[1] - o[2] / 2 * math.sin(o[4])]])
    assert np.allclose(o[:2], [cx / sx, cy / sy], rtol=1e-12, atol=1e-9)
    assert np.allclose(got, ends, rtol=1e-9, atol=1e-9)
    # h is the length of the mapped height axis
    hv = np.array([-math.sin(t), math.cos(t)]) * b[3] / [sx, sy]
    assert math.isclose(o[3], float(np.hypot(*hv)), rel_tol=1e-9, abs_tol=1e-9)


def test_hand_case_vertical_width_axis():
    # width axis along y: w follows 1/sy, h follows 1/sx
    out = rescale_rboxes(torch.tensor([[40.0, 80.0, 20.0, 6.0, math.pi / 2]]), 2.0, 4.0)
    assert torch.allclose(out, torch.tensor([[20.0, 20.0, 5.0, 3.0, math.pi / 2]]), atol=1e-6)


def test_tensor_in_tensor_out_and_gradient():
    b = torch.tensor([[10.0, 20.0, 8.0, 4.0, 0.3]], dtype=torch.float64, requires_grad=True)
    out = rescale_rboxes(b, 2.0, 3.0)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float64
    out.sum().backward()
    assert torch.isfinite(b.grad).all()


@pytest.mark.parametrize('scale_factor', [(2.0, 4.0), (1.5, 0.75)])
def test_retina_head_rescale_non_uniform(scale_factor):
    """The rotated RetinaNet head's boxes in original-image coordinates match the exact image."""
    from tests.test_models.test_dense_heads.test_rotated_retina_head import make_feats, tiny_head

    head = tiny_head(reg_max=None,
                     test_cfg=dict(nms_pre=50, score_thr=0.0, nms=dict(iou_threshold=1.0), max_per_img=10000))
    with torch.no_grad():  # zero deltas: the boxes are the anchors, axis-aligned; 'oc' turns them upright
        head.retina_reg.weight.zero_()
        head.retina_reg.bias.zero_()
        torch.manual_seed(1)
        head.retina_cls.weight.normal_()  # distinct scores: detections are matched by (score, label)
    with torch.no_grad():
        cls, reg = head(make_feats("cpu", batch=1))
    ref = head.predict_by_feat(cls, reg, batch_img_metas=[dict(scale_factor=(1.0, 1.0))], rescale=True)[0]
    got = head.predict_by_feat(cls, reg, batch_img_metas=[dict(scale_factor=scale_factor)], rescale=True)[0]
    assert len(got) == len(ref) > 0
    assert torch.isclose(got.bboxes[:, 4], torch.tensor(-math.pi / 2)).any()  # width axis vertical
    by_key = {(float(s), int(lab)): b for b, s, lab in zip(ref.bboxes.double(), ref.scores, ref.labels)}
    assert len(by_key) == len(ref)
    sx, sy = scale_factor
    for b, s, lab in zip(got.bboxes.double(), got.scores, got.labels):
        r = by_key[(float(s), int(lab))]
        assert same_corners(b.numpy(), scaled_corners(r.numpy(), sx, sy), 1e-6)
    assert torch.equal(regularize_rboxes(got.bboxes, head.angle_version), got.bboxes)
