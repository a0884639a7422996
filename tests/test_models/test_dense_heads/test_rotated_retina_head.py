"""RotatedRetinaHead (plain and distribution deltas; L1 / GWD / KLD box losses): shapes, empty and
one-GT losses, gradients to every parameter, targets vs the assigner + coder, a known-answer
decode, predict contract. Tiny heads on CPU, a few seconds."""
import math

import pytest
import torch
from mmengine.structures import InstanceData

from rotated_ld.models.dense_heads.rotated_retina_head import RotatedRetinaHead
from rotated_ld.structures import DetDataSample
from tests.conftest import DEVICES

STRIDES = [8, 16]
LOSSES = {
    'l1': dict(reg_decoded_bbox=False, loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
    'gwd': dict(reg_decoded_bbox=True, loss_bbox=dict(type='GDLoss', loss_type='gwd', loss_weight=5.0)),
    'kld': dict(reg_decoded_bbox=True,
                loss_bbox=dict(type='GDLoss_v1', loss_type='kld', fun='log1p', tau=1.0, loss_weight=1.0)),
}


def tiny_head(**kw):
    cfg = dict(num_classes=3, in_channels=4, feat_channels=4, stacked_convs=1, angle_version='oc',
               anchor_generator=dict(type='RotatedAnchorGenerator', octave_base_scale=4, scales_per_octave=3,
                                     ratios=[1.0, 0.5, 2.0], strides=STRIDES),
               train_cfg=dict(assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.4,
                                            min_pos_iou=0, iou_mode='circumscribed_hbox')),
               test_cfg=dict(nms_pre=50, score_thr=0.0, nms=dict(iou_threshold=0.1), max_per_img=20))
    cfg.update(kw)
    return RotatedRetinaHead(**cfg)


def make_feats(device, batch=2, size=64):
    torch.manual_seed(0)
    return tuple(torch.rand(batch, 4, size // s, size // s, device=device) for s in STRIDES)


def make_samples(boxes_per_image, device='cpu', size=64):
    out = []
    for boxes in boxes_per_image:
        s = DetDataSample(metainfo=dict(img_shape=(size, size), ori_shape=(size, size), scale_factor=(1., 1.),
                                        pad_shape=(size, size)))
        gi = InstanceData()
        gi.bboxes = torch.tensor(boxes, dtype=torch.float32, device=device).reshape(-1, 5)
        gi.labels = torch.arange(gi.bboxes.shape[0], device=device) % 3
        s.gt_instances = gi
        out.append(s)
    return out


ONE_GT = [[30., 28., 40., 20., -0.4]]


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('reg_max', [8, None])
def test_forward_shapes(device, reg_max):
    head = tiny_head(reg_max=reg_max).to(device)
    cls, reg = head(make_feats(device))
    R = 5 * 9 if reg_max else 5
    assert [c.shape for c in cls] == [(2, 27, 8, 8), (2, 27, 4, 4)]
    assert [r.shape for r in reg] == [(2, 9 * R, 8, 8), (2, 9 * R, 4, 4)]
    assert head.num_base_priors == 9 and head.strides == STRIDES


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('loss', sorted(LOSSES))
def test_loss_empty_gt(device, loss):
    head = tiny_head(**LOSSES[loss]).to(device)
    losses = head.loss(make_feats(device), make_samples([[], []], device))
    assert losses['loss_cls'] > 0 and torch.isfinite(losses['loss_cls'])
    assert losses['loss_bbox'] == 0
    assert losses['num_pos'] == 0


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('loss,reg_max', [('l1', 8), ('gwd', 8), ('kld', 8), ('l1', None), ('kld', None)])
def test_loss_one_gt_and_gradients(device, loss, reg_max):
    head = tiny_head(reg_max=reg_max, **LOSSES[loss]).to(device)
    losses = head.loss(make_feats(device), make_samples([ONE_GT, []], device))
    assert {k for k in losses if 'loss' in k} == {'loss_cls', 'loss_bbox'}
    for k in ('loss_cls', 'loss_bbox'):
        assert losses[k] > 0 and torch.isfinite(losses[k]), k
    assert losses['num_pos'] > 0
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    for name, p in head.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_targets_match_assigner_and_coder():
    head = tiny_head()
    flat = head.build_flat_outputs(*head(make_feats('cpu', batch=1)))
    gts = make_samples([ONE_GT + [[10., 50., 20., 12., -1.2]]])[0].gt_instances
    t = head.get_targets(flat.priors, [gts])
    res = head.assigner.assign(flat.priors, gts.bboxes, gts.labels)
    assert torch.equal(t.pos_mask[0], res.gt_inds > 0)
    assert torch.equal(t.label_weights[0] > 0, res.gt_inds >= 0)
    p = res.gt_inds > 0
    assert torch.equal(t.labels[0][p], gts.labels[res.gt_inds[p] - 1])
    enc = head.bbox_coder.encode(flat.priors[p], gts.bboxes[res.gt_inds[p] - 1])
    assert torch.allclose(t.bbox_targets[0][p], enc)
    assert t.avg_factor == float(p.sum())


def test_known_answer_decode():
    """Hand-built bin logits with known expectations decode to a hand-computed box."""
    head = tiny_head()
    logits = torch.full((5, 9), -1e4)
    # supports: dx,dy,dw,dh on linspace(-2,2,9) (step 0.5), da on linspace(-5,2,9) (step 7/8)
    for j, k in enumerate([5, 3, 4, 6, 5]):  # 0.5, -0.5, 0, 1, -5+5·7/8 = -0.625
        logits[j, k] = 0.
    deltas = head.reg_to_deltas(logits.reshape(1, 45))
    assert torch.allclose(deltas, torch.tensor([[0.5, -0.5, 0., 1., -0.625]]), atol=1e-5)
    prior = torch.tensor([[100., 50., 32., 16., 0.]])
    box = head.bbox_coder.decode(prior, deltas)
    assert torch.allclose(box, torch.tensor([[116., 42., 32., 16 * math.e, -0.625]]), atol=1e-4)


def test_angle_version_mismatch_and_plain_channels():
    with pytest.raises(ValueError, match='angle_version'):
        tiny_head(angle_version='le90', bbox_coder=dict(angle_version='oc'))
    assert tiny_head(reg_max=None).reg_channels == 5


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('reg_max', [8, None])
def test_predict_contract(device, reg_max):
    head = tiny_head(reg_max=reg_max).to(device).eval()
    samples = make_samples([[], []], device)
    samples[1].set_metainfo(dict(scale_factor=(0.5, 0.5)))
    with torch.no_grad():
        res = head.predict(make_feats(device), samples, rescale=True)
        res_norescale = head.predict(make_feats(device), samples, rescale=False)
    assert len(res) == 2
    for r in res:
        assert r.bboxes.shape[1] == 5 and r.bboxes.shape[0] == r.scores.shape[0] == r.labels.shape[0]
        assert 0 < r.bboxes.shape[0] <= 20
        assert (r.scores[:-1] >= r.scores[1:]).all()
        assert ((r.bboxes[:, 4] >= -math.pi / 2) & (r.bboxes[:, 4] < 0 + 1e-6)).all()  # oc
    # scale_factor 0.5: coordinates in the original image are twice the input's
    assert torch.allclose(res[1].bboxes[:, :4], res_norescale[1].bboxes[:, :4] * 2, atol=1e-4)


def test_predict_finds_trained_box():
    """Logits set by hand at one anchor → that anchor's decoded box comes out first."""
    head = tiny_head(reg_max=None)
    feats = make_feats('cpu', batch=1)
    cls, reg = head(feats)
    cls = [torch.full_like(c, -10.) for c in cls]
    reg = [torch.zeros_like(r) for r in reg]
    cls[0][0, 4 * 3 + 1, 2, 5] = 5.0  # location (y=2, x=5), anchor 4, class 1
    reg[0][0, 4 * 5 + 4, 2, 5] = -0.3  # da
    res = head.predict_by_feat(cls, reg, batch_img_metas=[dict(scale_factor=(1., 1.))], rescale=True)[0]
    assert res.labels[0] == 1
    w, h = head.prior_generator.base_wh(0)[4].tolist()
    assert torch.allclose(res.bboxes[0], torch.tensor([40., 16., w, h, -0.3]), atol=1e-4)


def test_voting_nms_from_test_cfg():
    """test_cfg.nms.type='rotated_voting_nms' reaches the head: voting off keeps the greedy result,
    voting on keeps the same detections (labels, scores) and moves boxes only within their cluster."""
    torch.manual_seed(3)
    head = tiny_head(reg_max=8).eval()
    with torch.no_grad():
        cls, reg = head(make_feats('cpu', batch=1))
        cls = [torch.randn_like(c) * 2 for c in cls]  # spread the scores: many over score_thr

        def run(nms):
            head.test_cfg = dict(nms_pre=50, score_thr=0.05, nms=nms, max_per_img=20)
            return head.predict_by_feat(cls, reg, batch_img_metas=[dict(scale_factor=(1., 1.))])[0]

        greedy = run(dict(type='nms_rotated', iou_threshold=0.1))
        off = run(dict(type='rotated_voting_nms', iou_threshold=0.1, voting=False))
        on = run(dict(type='rotated_voting_nms', iou_threshold=0.1))
    assert greedy.bboxes.shape[0] > 1
    for r in (off, on):
        assert torch.equal(r.labels, greedy.labels) and torch.allclose(r.scores, greedy.scores)
    assert torch.allclose(off.bboxes, greedy.bboxes, atol=1e-5)
    assert not torch.allclose(on.bboxes, greedy.bboxes, atol=1e-5)
    with pytest.raises(ValueError, match='no_such_nms'):
        run(dict(type='no_such_nms'))


def _greedy_nms_shapely(boxes, scores, labels, iou_thr):
    """Brute-force class-wise greedy NMS with shapely polygon IoU: kept row indices by score."""
    import shapely

    from rotated_ld.structures.bbox import rbox2poly

    polys = shapely.polygons(rbox2poly(boxes.double()).view(-1, 4, 2).numpy())
    kept = []
    for i in scores.argsort(descending=True, stable=True).tolist():
        ious = [shapely.intersection(polys[i], polys[j]).area / shapely.union(polys[i], polys[j]).area
                for j in kept if labels[j] == labels[i]]
        # the comparison with our float32 kernel is only well posed away from the threshold
        assert all(abs(v - iou_thr) > 1e-4 for v in ious), 'an IoU at the threshold: change the seed'
        if all(v <= iou_thr for v in ious):
            kept.append(i)
    return kept


@pytest.mark.parametrize('nms', [dict(iou_threshold=0.1), dict(type='nms_rotated', iou_thr=0.1)])
def test_default_nms_matches_bruteforce(nms):
    """The default NMS (no type, or mmrotate 0.x's ``iou_thr`` spelling) = class-wise greedy rotated NMS
    checked against shapely on the same candidates (all pairs over score_thr, taken with IoU 1.0)."""
    torch.manual_seed(5)
    head = tiny_head(reg_max=8).eval()
    with torch.no_grad():
        cls, reg = head(make_feats('cpu', batch=1))
        cls = [torch.randn_like(c) * 2 for c in cls]
        reg = [torch.randn_like(r) for r in reg]

        def run(nms_cfg, max_per_img):
            head.test_cfg = dict(nms_pre=30, score_thr=0.3, nms=nms_cfg, max_per_img=max_per_img)
            return head.predict_by_feat(cls, reg, batch_img_metas=[dict(scale_factor=(1., 1.))])[0]

        cand = run(dict(type='nms_rotated', iou_threshold=1.0), 100000)
        got = run(nms, 15)
    kept = _greedy_nms_shapely(cand.bboxes, cand.scores, cand.labels, 0.1)[:15]
    assert 1 < len(kept) < cand.bboxes.shape[0]
    assert torch.equal(got.labels, cand.labels[kept])
    assert torch.allclose(got.scores, cand.scores[kept])
    assert torch.allclose(got.bboxes, cand.bboxes[kept], atol=1e-5)
