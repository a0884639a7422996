"""GFLHead: shapes, empty/one-gt losses, loss-key contract, predict contract, known answers,
batch invariance, checkpoint key names, NMS selection (CPU, a few seconds)."""
import math

import pytest
import torch
from mmengine.structures import InstanceData

from rotated_ld.models.dense_heads import GFLHead
from rotated_ld.structures import DetDataSample
from tests.conftest import DEVICES

STRIDES = (8, 16)
TEST_CFG = dict(nms_pre=50, min_bbox_size=0, score_thr=0.05, nms=dict(type='nms', iou_threshold=0.6),
                max_per_img=7)


def tiny_head(**kw):
    cfg = dict(num_classes=3, in_channels=4, feat_channels=4, stacked_convs=1, norm_cfg=None, strides=STRIDES,
               reg_max=8, train_cfg=dict(assigner=dict(type='ATSSAssigner', topk=9)), test_cfg=TEST_CFG)
    cfg.update(kw)
    return GFLHead(**cfg)


def make_feats(h=125, w=130, b=1, device='cpu'):
    return [torch.randn(b, 4, math.ceil(h / s), math.ceil(w / s), device=device) for s in STRIDES]


def sample(boxes, labels, h=125, w=130, scale=(1.0, 1.0)):
    s = DetDataSample(metainfo=dict(img_shape=(h, w), pad_shape=(h, w), ori_shape=(h, w), scale_factor=scale))
    g = InstanceData()
    g.bboxes = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
    g.labels = torch.tensor(labels, dtype=torch.long)
    s.gt_instances = g
    return s


@pytest.mark.parametrize('device', DEVICES)
def test_forward_shapes(seed, device):
    head = tiny_head().to(device)
    cls, reg = head(make_feats(b=2, device=device))
    assert [tuple(c.shape) for c in cls] == [(2, 3, 16, 17), (2, 3, 8, 9)]
    assert [tuple(r.shape) for r in reg] == [(2, 36, 16, 17), (2, 36, 8, 9)]
    assert all(r.dtype == torch.float32 for r in reg)


@pytest.mark.parametrize('device', DEVICES)
def test_loss_empty_gt(seed, device):
    head = tiny_head().to(device)
    losses = head.loss(make_feats(device=device), [sample([], [])])
    assert losses['loss_cls'].item() > 0
    assert losses['loss_bbox'].item() == 0 and losses['loss_dfl'].item() == 0
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()  # every parameter stays in the graph
    assert all(p.grad is not None for p in head.parameters())


@pytest.mark.parametrize('device', DEVICES)
def test_loss_one_gt(seed, device):
    head = tiny_head().to(device)
    losses = head.loss(make_feats(device=device), [sample([[20.0, 30.0, 70.0, 90.0]], [1])])
    for k, v in losses.items():
        assert torch.isfinite(v) and v.item() > 0, k
    sum(losses.values()).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in head.parameters())
    # the one GT only has positives on some levels; every other parameter gets a non-zero gradient
    zero = [n for n, p in head.named_parameters() if not p.grad.abs().sum() > 0]
    assert set(zero) <= {f'scales.{i}.scale' for i in range(len(STRIDES))}, zero


def test_loss_keys_contract(seed):
    losses = tiny_head().loss(make_feats(), [sample([[20.0, 30.0, 70.0, 90.0]], [1])])
    assert {k for k in losses if 'loss' in k} == {'loss_cls', 'loss_bbox', 'loss_dfl'}
    assert all(isinstance(v, torch.Tensor) and v.dim() == 0 for v in losses.values())


def test_extra_losses_hook_receives_everything(seed):
    seen = {}

    class Spy(GFLHead):
        def _extra_losses(self, flat, targets, **extra):
            seen.update(flat=flat, targets=targets, extra=extra)
            return dict(loss_spy=flat.reg_logits.sum() * 0)

    head = Spy(num_classes=3, in_channels=4, feat_channels=4, stacked_convs=1, norm_cfg=None, strides=STRIDES,
               reg_max=8)
    feats = make_feats(b=2)
    t_outs = head(feats)
    losses = head.loss(feats, [sample([[20.0, 30.0, 70.0, 90.0]], [1]), sample([], [])], teacher_outs=t_outs)
    assert 'loss_spy' in losses
    flat, t = seen['flat'], seen['targets']
    a = sum(math.ceil(125 / s) * math.ceil(130 / s) for s in STRIDES)
    assert flat.cls_logits.shape == (2, a, 3) and flat.reg_logits.shape == (2, a, 36)
    assert flat.priors.shape == (a, 4) and flat.num_level_priors == [16 * 17, 8 * 9]
    assert t.labels.shape == (2, a) and t.bbox_targets.shape == (2, a, 4)
    assert t.pos_mask[0].any() and not t.pos_mask[1].any()
    assert t.pos_weights.shape == t.pos_ious.shape == (int(t.pos_mask.sum()),)
    assert seen['extra']['teacher_outs'] is t_outs and len(seen['extra']['feats']) == 2
    tc, tr = head.concat_levels(*t_outs)
    torch.testing.assert_close(tr, flat.reg_logits)


def test_padding_priors_are_not_trained(seed):
    head = tiny_head()
    s = sample([[20.0, 30.0, 70.0, 90.0]], [1], h=60, w=64)
    s.set_metainfo(dict(pad_shape=(64, 64)))
    flat = head.build_flat_outputs(*head(make_feats()))
    t = head.get_targets(flat, [s.gt_instances], [s.metainfo])
    x, y = flat.priors[:, 0], flat.priors[:, 1]
    assert (t.label_weights[0][(x >= 64) | (y >= 64)] == 0).all()
    assert (t.label_weights[0][(x < 64) & (y < 64)] == 1).all()


def test_batch_invariance(seed):
    """Normalisation by #positives and Σw: two copies of an image give the single-image losses."""
    head = tiny_head()
    torch.nn.init.zeros_(head.gfl_cls.bias)  # σ = 0.5, so Σw > 1 and the clamp is inactive
    f1 = make_feats()
    s = [sample([[20.0, 30.0, 70.0, 90.0], [60.0, 10.0, 120.0, 50.0]], [1, 2])]
    l1 = head.loss(f1, s)
    l2 = head.loss([torch.cat([f, f]) for f in f1], s * 2)
    for k in l1:
        torch.testing.assert_close(l1[k], l2[k], rtol=1e-4, atol=1e-6)


def test_known_answer_decode():
    """Hand-built logits with a known expectation decode to a hand-computed box."""
    head = tiny_head(test_cfg=dict(TEST_CFG, score_thr=0.5, nms_pre=-1))
    n = head.reg_max + 1
    cls = [torch.full((1, 3, 2, 2), -20.0), torch.full((1, 3, 1, 1), -20.0)]
    reg = [torch.full((1, 4 * n, 2, 2), -30.0), torch.full((1, 4 * n, 1, 1), -30.0)]
    cls[0][0, 2, 1, 1] = 20.0  # one confident prior at (x, y) = (8, 8), stride 8
    for e, d in enumerate([1.0, 2.0, 3.0, 0.5]):  # l, t, r, b distances in strides
        lo = int(d)
        frac = d - lo
        reg[0][0, e * n + lo, 1, 1] = math.log(1 - frac) if frac < 1 else -30
        if frac > 0:
            reg[0][0, e * n + lo + 1, 1, 1] = math.log(frac)
    res = head.predict_by_feat(cls, reg, batch_img_metas=[dict(img_shape=(100, 100), scale_factor=(2.0, 4.0))],
                               rescale=True)[0]
    assert res.labels.tolist() == [2]
    expected = [(8 - 8) / 2, (8 - 16) / 4, (8 + 24) / 2, (8 + 4) / 4]  # y1 clipped to 0 before rescale
    expected[1] = 0.0
    torch.testing.assert_close(res.bboxes[0], torch.tensor(expected), atol=1e-3, rtol=0)


@pytest.mark.parametrize('device', DEVICES)
def test_predict_contract(seed, device):
    head = tiny_head().to(device)
    torch.nn.init.constant_(head.gfl_cls.bias, 2.0)  # many confident detections
    s = sample([], [], h=125, w=130, scale=(0.5, 0.5))
    res = head.predict(make_feats(device=device), [s], rescale=True)[0]
    k = res.bboxes.shape[0]
    assert 0 < k <= TEST_CFG['max_per_img']
    assert res.bboxes.shape == (k, 4) and res.scores.shape == (k,) and res.labels.shape == (k,)
    assert res.labels.dtype == torch.long and (res.scores[:-1] >= res.scores[1:]).all()
    assert (res.bboxes >= 0).all() and (res.bboxes[:, [0, 2]] <= 260 + 1e-3).all()
    assert (res.bboxes[:, [1, 3]] <= 250 + 1e-3).all()
    empty = tiny_head().to(device).predict(make_feats(device=device), [s])[0]  # init scores ~0.01 < thr
    assert empty.bboxes.shape == (0, 4) and empty.labels.shape == (0,)


def test_voting_nms_is_selectable(seed):
    head = tiny_head(test_cfg=dict(TEST_CFG, nms=dict(type='voting_cluster_diounms', iou_threshold=0.6)))
    torch.nn.init.constant_(head.gfl_cls.bias, 2.0)
    res = head.predict(make_feats(), [sample([], [])])[0]
    assert 0 < res.bboxes.shape[0] <= TEST_CFG['max_per_img']
    with pytest.raises((KeyError, ValueError), match='nmss'):
        tiny_head(test_cfg=dict(TEST_CFG, nms=dict(type='nmss'))).predict(make_feats(), [sample([], [])])


def test_mmdet_checkpoint_key_names():
    head = GFLHead(num_classes=80, in_channels=256)
    keys = set(head.state_dict())
    for k in ('cls_convs.0.conv.weight', 'cls_convs.3.gn.weight', 'reg_convs.0.gn.bias', 'gfl_cls.weight',
              'gfl_cls.bias', 'gfl_reg.weight', 'scales.4.scale', 'integral.project'):
        assert k in keys, k
    assert head.gfl_reg.out_channels == 68 and 'cls_convs.0.conv.bias' not in keys
    assert head.gfl_cls.bias[0].item() == pytest.approx(-math.log(99), 1e-5)


def test_loss_matches_per_level_reference(seed):
    """Losses equal a slow per-level, per-location loop written from docs/method.md §1 (mmdet layout)."""
    import torch.nn.functional as F

    from rotated_ld.models.losses.iou_loss import aligned_box_overlaps

    head = tiny_head()
    torch.nn.init.normal_(head.gfl_cls.bias, 0.0, 1.0)  # Σw > 1 so the clamp is inactive
    feats = make_feats(b=2)
    s = [sample([[20.0, 30.0, 70.0, 90.0], [60.0, 10.0, 120.0, 50.0]], [1, 2]),
         sample([[5.0, 5.0, 40.0, 30.0]], [0])]
    losses = head.loss(feats, s)
    cls_scores, bbox_preds = head(feats)
    # targets from the (separately tested) assigner, laid out per level the slow way
    prior_boxes, nlp, centers, strides = [], [], [], []
    for (h, w), st in zip([c.shape[-2:] for c in cls_scores], STRIDES):
        for y in range(h):
            for x in range(w):
                centers.append((x * st, y * st))
                strides.append(st)
                prior_boxes.append([x * st - 4 * st, y * st - 4 * st, x * st + 4 * st, y * st + 4 * st])
        nlp.append(h * w)
    prior_boxes = torch.tensor(prior_boxes, dtype=torch.float32)
    n = head.reg_max + 1
    qfl, giou_sum, dfl_sum, w_sum, num_pos = 0.0, 0.0, 0.0, 0.0, 0
    for i in range(2):
        gt = s[i].gt_instances
        res = head.assigner.assign(prior_boxes, nlp, gt.bboxes, gt.labels)
        a = 0
        for c, r in zip(cls_scores, bbox_preds):
            h, w = c.shape[-2:]
            for y in range(h):
                for x in range(w):
                    logit = c[i, :, y, x].detach().double()
                    q = torch.zeros(3, dtype=torch.float64)
                    g = int(res.gt_inds[a])
                    if g >= 0:
                        st = strides[a]
                        cx, cy = centers[a][0] / st, centers[a][1] / st
                        z = r[i, :, y, x].detach().double().reshape(4, n)
                        d = (z.softmax(-1) * torch.arange(n, dtype=torch.float64)).sum(-1)
                        pred = torch.stack([cx - d[0], cy - d[1], cx + d[2], cy + d[3]])
                        tgt = gt.bboxes[g].double() / st
                        iou = aligned_box_overlaps(pred[None], tgt[None], 'iou')[0].clamp(min=0)
                        q[int(gt.labels[g])] = iou
                        wgt = logit.sigmoid().max()
                        giou_sum += wgt * (1 - aligned_box_overlaps(pred[None], tgt[None], 'giou')[0])
                        dist = torch.stack([cx - tgt[0], cy - tgt[1], tgt[2] - cx, tgt[3] - cy]).clamp(0, n - 1 - 0.1)
                        for e in range(4):
                            lo = int(dist[e])
                            logp = F.log_softmax(z[e], -1)
                            dfl_sum += wgt * -((lo + 1 - dist[e]) * logp[lo] + (dist[e] - lo) * logp[lo + 1]) / 4
                        w_sum += wgt
                        num_pos += 1
                    sig = logit.sigmoid()
                    qfl += (F.binary_cross_entropy_with_logits(logit, q, reduction='none')
                            * (q - sig).abs() ** 2).sum()
                    a += 1
    assert num_pos > 0 and w_sum > 1
    ref = dict(loss_cls=qfl / num_pos, loss_bbox=2.0 * giou_sum / w_sum, loss_dfl=0.25 * dfl_sum / w_sum)
    for k, v in ref.items():
        assert losses[k].item() == pytest.approx(float(v), rel=1e-4), k


def test_bf16_autocast_loss_and_predict(seed):
    head = tiny_head()
    torch.nn.init.constant_(head.gfl_cls.bias, 2.0)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = head.loss(make_feats(), [sample([[20.0, 30.0, 70.0, 90.0]], [1])])
        res = head.predict(make_feats(), [sample([], [])])[0]
    assert all(torch.isfinite(v) and v.dtype == torch.float32 for v in losses.values())
    assert res.scores.dtype == torch.float32 and res.bboxes.dtype == torch.float32 and len(res) > 0
