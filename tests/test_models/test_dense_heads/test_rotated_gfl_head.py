"""RotatedGFLHead: shapes, loss contract (empty / one GT), gradients, predict contract, angle versions.

Tiny head (8 channels, 1 conv, strides 8/16, 64×64 input). CPU, a few seconds.
"""
import math

import pytest
import torch
from mmengine.structures import InstanceData

from rotated_ld.models.dense_heads.rotated_gfl_head import RotatedGFLHead
from rotated_ld.structures.bbox import rbox2poly, rescale_rboxes
from rotated_ld.structures.bbox.rbox import rbox_in_range, regularize_rboxes
from tests.conftest import DEVICES
from tests.detection_match import assert_same_detections

PI = math.pi


def tiny_head(**kw):
    cfg = dict(feat_channels=8, stacked_convs=1, norm_cfg=None, strides=(8, 16),
               test_cfg=dict(nms_pre=100, score_thr=0.05, min_bbox_size=0,
                             nms=dict(type='nms_rotated', iou_threshold=0.1), max_per_img=50))
    cfg.update(kw)
    return RotatedGFLHead(3, 8, **cfg)


def make_feats(b=1, device='cpu'):
    g = torch.Generator().manual_seed(1)
    return [torch.randn(b, 8, 8, 8, generator=g).to(device), torch.randn(b, 8, 4, 4, generator=g).to(device)]


def gt(boxes, labels, device='cpu'):
    inst = InstanceData()
    inst.bboxes = torch.tensor(boxes, dtype=torch.float32, device=device).reshape(-1, 5)
    inst.labels = torch.tensor(labels, dtype=torch.long, device=device)
    return inst


META = dict(img_shape=(64, 64), pad_shape=(64, 64), scale_factor=(1.0, 1.0))


@pytest.mark.parametrize('device', DEVICES)
def test_forward_shapes(device):
    head = tiny_head().to(device)
    cls, reg, ang = head(make_feats(2, device))
    assert [tuple(c.shape) for c in cls] == [(2, 3, 8, 8), (2, 3, 4, 4)]
    assert [tuple(r.shape) for r in reg] == [(2, 68, 8, 8), (2, 68, 4, 4)]
    assert [tuple(a.shape) for a in ang] == [(2, 36, 8, 8), (2, 36, 4, 4)]
    plain = tiny_head(angle_coder=dict(type='PlainAngleCoder')).to(device)
    assert tuple(plain(make_feats(1, device))[2][0].shape) == (1, 1, 8, 8)


@pytest.mark.parametrize('device', DEVICES)
def test_loss_empty_gt(device):
    head = tiny_head().to(device)
    losses = head.loss_by_feat(*head(make_feats(1, device)), [gt([], [], device)], [META])
    assert losses['loss_cls'].item() > 0
    for k in ('loss_bbox', 'loss_dfl', 'loss_angle'):
        assert losses[k].item() == 0
    assert all(torch.isfinite(v).all() for v in losses.values())


@pytest.mark.parametrize('version', ['le90', 'oc', 'le135'])
def test_loss_one_gt_and_gradients(version, seed):
    head = tiny_head(angle_version=version)
    box = regularize_rboxes(torch.tensor([[30.0, 34.0, 48.0, 30.0, 0.4]]), version)
    losses = head.loss_by_feat(*head(make_feats()), [gt(box.tolist(), [1])], [META])
    assert set(losses) == {'loss_cls', 'loss_bbox', 'loss_dfl', 'loss_angle'}
    for k, v in losses.items():
        assert torch.isfinite(v) and v.item() > 0, k
    sum(losses.values()).backward()
    for name, p in head.named_parameters():
        assert p.grad is not None, name
    assert head.gfl_angle.weight.grad.abs().sum() > 0


def test_plain_angle_baseline_trains_angle_through_iou_loss(seed):
    head = tiny_head(angle_coder=dict(type='PlainAngleCoder'))
    with torch.no_grad():  # predicted boxes ~ 3 strides per edge: smaller than the GT, angle matters
        head.gfl_reg.bias.view(4, 17)[:, 3] = 10.0
    losses = head.loss_by_feat(*head(make_feats()), [gt([[30.0, 34.0, 48.0, 30.0, 0.4]], [1])], [META])
    assert 'loss_angle' not in losses and head.angle_bins == 1
    sum(losses.values()).backward()
    assert head.gfl_angle.weight.grad.abs().sum() > 0


def test_losses_do_not_depend_on_the_gt_version_representation(seed):
    # the same polygons written in oc and in le90 give the same losses for an oc head and a le90 head
    boxes = torch.tensor([[30.0, 34.0, 48.0, 30.0, 0.4], [22.0, 20.0, 30.0, 44.0, -1.0]])
    head90 = tiny_head(angle_version='le90')
    head_oc = tiny_head(angle_version='oc')
    head_oc.load_state_dict(head90.state_dict())
    feats = make_feats()
    l90 = head90.loss_by_feat(*head90(feats), [gt(regularize_rboxes(boxes, 'le90').tolist(), [0, 2])], [META])
    loc = head_oc.loss_by_feat(*head_oc(feats), [gt(regularize_rboxes(boxes, 'oc').tolist(), [0, 2])], [META])
    for k in l90:
        assert torch.allclose(l90[k], loc[k], atol=1e-6), k


def _confident_head(version, roll=0):
    torch.manual_seed(3)
    head = tiny_head(angle_version=version)
    with torch.no_grad():
        head.gfl_cls.bias.fill_(1.0)
        head.gfl_reg.weight.normal_(0, 0.3)
        head.gfl_angle.weight.normal_(0, 0.5)
        head.gfl_angle.bias.normal_(0, 1.0)
    if roll:
        with torch.no_grad():
            head.gfl_angle.weight.copy_(torch.roll(head.gfl_angle.weight, -roll, dims=0))
            head.gfl_angle.bias.copy_(torch.roll(head.gfl_angle.bias, -roll, dims=0))
    return head


@pytest.mark.parametrize('device', DEVICES)
def test_predict_contract(device):
    head = _confident_head('le90').to(device).eval()
    meta = dict(META, scale_factor=(2.0, 2.0))
    with torch.no_grad():
        res = head.predict_by_feat(*head(make_feats(2, device)), batch_img_metas=[meta, meta], rescale=True)
    assert len(res) == 2
    r = res[0]
    assert r.bboxes.shape[1] == 5 and r.bboxes.shape[0] == r.scores.shape[0] == r.labels.shape[0]
    assert 0 < r.bboxes.shape[0] <= 50
    assert (r.scores[:-1] >= r.scores[1:]).all()
    assert rbox_in_range(r.bboxes, 'le90', atol=1e-6).all()
    assert r.bboxes[:, :2].max() < 64  # rescaled from 64 px input by 2


def test_same_model_same_polygons_in_every_version():
    """oc / le90 / le135 heads with the same weights (le135: angle channels rolled by the bin offset
    π/4 = 9 bins, because its bins start at −π/4) predict the same polygons, each in its own range."""
    feats = make_feats()
    cfg = dict(nms_pre=100, score_thr=0.05, min_bbox_size=0,
               nms=dict(type='nms_rotated', iou_threshold=0.7), max_per_img=50)
    outs = {}
    for version, roll in (('le90', 0), ('oc', 0), ('le135', 9)):
        head = _confident_head(version, roll).eval()
        with torch.no_grad():
            outs[version] = head.predict_by_feat(*head(feats), batch_img_metas=[META], cfg=cfg)[0]
        assert rbox_in_range(outs[version].bboxes, version, atol=1e-5).all(), version
    ref = outs['le90']
    assert ref.bboxes.shape[0] > 3
    for version in ('oc', 'le135'):
        # the same set of rectangles, matched order-free (the angle decodes of the three versions round
        # differently, ~1e-6 rad; the class logits are identical, so the scores are too)
        assert_same_detections(outs[version], ref, rotated=True, score_tol=1e-6, box_atol=1e-2)


def test_known_answer_decode():
    head = tiny_head()
    reg = torch.full((1, 4, 17), -30.0)
    for e, d in enumerate((2, 3, 6, 1)):  # l, t, r, b in stride units
        reg[0, e, d] = 0.0
    ang = torch.full((1, 36), -30.0)
    ang[0, 27] = 0.0  # centre −π/2 + 27.5·π/36
    box = head.decode_stride_units(torch.tensor([[4.0, 5.0]]), reg.reshape(1, -1), ang)[0]
    theta = -PI / 2 + 27.5 * PI / 36
    c, s = math.cos(theta), math.sin(theta)
    ox, oy = (6 - 2) / 2, (1 - 3) / 2
    expected = torch.tensor([4 + c * ox - s * oy, 5 + s * ox + c * oy, 8.0, 4.0, theta])
    assert torch.allclose(box, expected, atol=1e-4)


def test_rescale_rboxes():
    boxes = torch.tensor([[20.0, 10.0, 8.0, 4.0, 0.3], [5.0, 6.0, 3.0, 2.0, 0.0]])
    uni = rescale_rboxes(boxes, 2.0, 2.0)
    assert torch.allclose(rbox2poly(uni), rbox2poly(boxes) / 2, atol=1e-5)
    non = rescale_rboxes(boxes[1:], 2.0, 4.0)  # axis-aligned: exact
    assert torch.allclose(non, torch.tensor([[2.5, 1.5, 1.5, 0.5, 0.0]]))


def test_build_from_registry_and_compat_attrs():
    from rotated_ld.registry import MODELS

    head = MODELS.build(dict(type='RotatedGFLHead', num_classes=3, in_channels=8, feat_channels=8,
                             stacked_convs=1, norm_cfg=None, strides=(8, 16), angle_version='le135'))
    assert head.angle_bins == 36 and head.angle_version == 'le135'
    assert head.angle_range == (round(-PI / 4, 6), round(3 * PI / 4, 6))
    assert 'angle_coder_type' in head.distill_compat_attrs
