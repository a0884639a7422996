"""GFLv2 (DGQP) head and its LD student: the quality statistics against hand-computed top-k of known
distributions, the joint score against σ(cls)·q computed independently, GFocalV2's checkpoint layout
(an upstream-style ``nn.Sequential(conv, ReLU, conv, Sigmoid)`` loads by key and gives the same
quality), QFL on the joint log-odds against upstream's QFL on probabilities, the upstream config keys,
the config / checkpoint round trip, and one LD step of tiny heads (and, slow, of the synthetic LD
GFLv2 student config)."""
import copy
import math
import os.path as osp
import warnings

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.structures import InstanceData
from torch import nn

from rotated_ld.models.dense_heads import DGQP, GFLHead, GFLv2Head
from rotated_ld.models.dense_heads.dgqp import joint_log_odds
from rotated_ld.models.losses.quality_focal_loss import quality_focal_loss
from rotated_ld.registry import MODELS
from rotated_ld.structures import DetDataSample

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
TEACHER_CFG = osp.join(ROOT, 'configs', 'gfl', 'gflv2_r18-slim_fpn_synthetic_coco.py')
STUDENT_CFG = osp.join(ROOT, 'configs', 'ld', 'ld-vlr-kd_r18-slim-gflv2-r18-slim_fpn_synthetic_coco.py')

# four edge distributions over R = 5 bins (reg_max = 4), one location
EDGE_PROBS = [[0.10, 0.40, 0.20, 0.25, 0.05],
              [0.50, 0.30, 0.10, 0.05, 0.05],
              [0.20, 0.20, 0.20, 0.20, 0.20],
              [0.01, 0.02, 0.07, 0.60, 0.30]]
# by hand: the two largest of each row, then their mean (reg_topk=2, add_mean=True)
HAND_STATS = [0.40, 0.25, 0.325,
              0.50, 0.30, 0.40,
              0.20, 0.20, 0.20,
              0.60, 0.30, 0.45]


def _logits_of(probs):
    """(1, 4R, 1, 1) edge logits whose per-edge softmax is ``probs``."""
    return torch.tensor(probs, dtype=torch.float64).log().reshape(1, -1, 1, 1).float()


def test_dgqp_statistics_are_the_hand_computed_topk_and_mean():
    q = DGQP(reg_max=4, reg_topk=2, reg_channels=2, add_mean=True)
    stats = q.statistics(_logits_of(EDGE_PROBS)).reshape(-1)
    torch.testing.assert_close(stats, torch.tensor(HAND_STATS), rtol=0, atol=1e-6)
    no_mean = DGQP(reg_max=4, reg_topk=2, reg_channels=2, add_mean=False)
    hand = [v for i, v in enumerate(HAND_STATS) if i % 3 != 2]
    torch.testing.assert_close(no_mean.statistics(_logits_of(EDGE_PROBS)).reshape(-1), torch.tensor(hand),
                               rtol=0, atol=1e-6)


def test_dgqp_quality_value_by_hand():
    """Weights set by hand: hidden 0 = Σ stats, hidden 1 = −Σ stats (ReLU → 0); q = σ(0.5·h0 − 1)."""
    q = DGQP(reg_max=4, reg_topk=2, reg_channels=2)
    with torch.no_grad():
        q[0].weight.copy_(torch.stack([torch.ones(12), -torch.ones(12)]).reshape(2, 12, 1, 1))
        q[0].bias.zero_()
        q[2].weight.copy_(torch.tensor([0.5, 0.5]).reshape(1, 2, 1, 1))
        q[2].bias.fill_(-1.0)
    expected = 1 / (1 + math.exp(-(0.5 * sum(HAND_STATS) - 1.0)))
    assert q(_logits_of(EDGE_PROBS)).exp().item() == pytest.approx(expected, rel=1e-5)


def _brute_force_stats(reg, reg_max, k):
    """Per location and edge: softmax, python-sorted top-k, mean (independent of DGQP.statistics)."""
    B, _, H, W = reg.shape
    out = torch.zeros(B, 4 * (k + 1), H, W, dtype=torch.float64)
    for b in range(B):
        for y in range(H):
            for x in range(W):
                for e in range(4):
                    logits = reg[b, e * (reg_max + 1):(e + 1) * (reg_max + 1), y, x].double()
                    p = sorted((logits.exp() / logits.exp().sum()).tolist(), reverse=True)[:k]
                    out[b, e * (k + 1):(e + 1) * (k + 1), y, x] = torch.tensor(p + [sum(p) / k])
    return out


def test_class_score_is_sigmoid_times_quality_and_matches_upstream_layout():
    torch.manual_seed(0)
    head = GFLv2Head(3, 8, stacked_convs=0, norm_cfg=None, reg_max=4, strides=(8,))
    with torch.no_grad():  # a quality away from its init value
        for p in head.reg_conf.parameters():
            p.normal_(0, 0.5)
    # GFocalV2 / HikariTJU/LD layout: reg_conf = Sequential(conv, ReLU, conv, Sigmoid)
    upstream = nn.Sequential(nn.Conv2d(20, 64, 1), nn.ReLU(), nn.Conv2d(64, 1, 1), nn.Sigmoid()).double()
    head.reg_conf.load_state_dict({k: v.float() for k, v in upstream.state_dict().items()}, strict=True)
    x = torch.randn(2, 8, 3, 4)
    (cls,), (reg,) = head([x])
    raw = F.conv2d(x.double(), head.gfl_cls.weight.double(), head.gfl_cls.bias.double(), padding=1)
    with torch.no_grad():
        quality = upstream(_brute_force_stats(reg, 4, 4))
    torch.testing.assert_close(cls.sigmoid().double(), raw.sigmoid() * quality, rtol=1e-4, atol=1e-7)
    assert cls.dtype == torch.float32 and cls.shape == (2, 3, 3, 4)


def test_state_dict_is_gfl_plus_reg_conf_keys():
    kw = dict(num_classes=80, in_channels=256)
    v1, v2 = GFLHead(**kw).state_dict(), GFLv2Head(**kw).state_dict()
    extra = {k: tuple(v.shape) for k, v in v2.items() if k not in v1}
    assert extra == {'reg_conf.0.weight': (64, 20, 1, 1), 'reg_conf.0.bias': (64,),
                     'reg_conf.2.weight': (1, 64, 1, 1), 'reg_conf.2.bias': (1,)}
    assert all(tuple(v2[k].shape) == tuple(v.shape) for k, v in v1.items())


def test_joint_log_odds_is_exact_and_finite_at_the_extremes():
    cls = torch.tensor([-30.0, -3.0, 0.0, 2.0, 40.0], dtype=torch.float64)
    log_q = torch.tensor([-20.0, -0.5, -1e-3, 0.0, 0.0], dtype=torch.float64)
    out = joint_log_odds(cls.clone().requires_grad_(), log_q).double()
    # log σ(out) = log σ(cls) + log q, except where p is clamped at 1 − 1e-6
    lhs, rhs = F.logsigmoid(out), F.logsigmoid(cls) + log_q
    torch.testing.assert_close(lhs[:4], rhs[:4], rtol=1e-5, atol=1e-6)
    assert out[4].sigmoid().item() == pytest.approx(1 - 1e-6, abs=1e-7)
    c = cls.float().requires_grad_()
    joint_log_odds(c, log_q.float()).sum().backward()
    assert torch.isfinite(c.grad).all()


def test_qfl_on_joint_log_odds_equals_upstream_qfl_on_probabilities():
    """GFocalV2 trains QFL with ``use_sigmoid=False`` on σ(cls)·q; here QFL on the head's log-odds."""
    g = torch.Generator().manual_seed(1)
    cls, log_q = torch.randn(50, 6, generator=g) * 3, F.logsigmoid(torch.randn(50, 1, generator=g) * 2)
    labels = torch.randint(0, 7, (50,), generator=g)  # 6 = background
    scores = torch.rand(50, generator=g)
    ours = quality_focal_loss(joint_log_odds(cls, log_q), labels, scores)
    prob = (cls.double().sigmoid() * log_q.double().exp())
    upstream = quality_focal_loss(prob, labels, scores.double(), activated=True)
    torch.testing.assert_close(ours.double(), upstream, rtol=1e-4, atol=1e-6)


def test_upstream_head_keys_are_accepted():
    head = MODELS.build(dict(type='GFocalHead', num_classes=3, in_channels=8, feat_channels=8, stacked_convs=1,
                             norm_cfg=None, reg_topk=3, reg_channels=16, add_mean=False,
                             loss_cls=dict(type='QualityFocalLoss', use_sigmoid=False, beta=2.0, loss_weight=1.0)))
    assert type(head) is GFLv2Head
    assert head.reg_conf[0].weight.shape == (16, 12, 1, 1) and head.loss_cls.use_sigmoid
    with pytest.raises(ValueError, match='horizontal'):
        GFLHead(3, 8, feat_channels=8, stacked_convs=1, norm_cfg=None, box_type='rbox',
                quality_branch=dict(type='DGQP'))
    with pytest.raises(ValueError, match='quality_mode'):
        GFLHead(3, 8, feat_channels=8, stacked_convs=1, norm_cfg=None, quality_mode='centerness',
                loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
                quality_branch=dict(type='DGQP'))
    with pytest.raises(ValueError, match='reg_topk'):
        DGQP(reg_max=4, reg_topk=6)


def _sample(size=(64, 80), boxes=((10., 12., 50., 60.), (40., 20., 75., 50.)), labels=(1, 3)):
    s = DetDataSample(metainfo=dict(img_id=0, img_shape=size, ori_shape=size, pad_shape=size,
                                    scale_factor=(1.0, 1.0)))
    s.gt_instances = InstanceData(bboxes=torch.tensor(boxes), labels=torch.tensor(labels))
    return s


def test_config_and_checkpoint_round_trip(tmp_path):
    from rotated_ld.apis import init_detector
    cfg = Config.fromfile(TEACHER_CFG)
    assert cfg.model.bbox_head.type == 'GFLv2Head'
    dumped = tmp_path / 'gflv2.py'
    cfg.dump(str(dumped))
    again = Config.fromfile(str(dumped))
    assert again.model.to_dict() == cfg.model.to_dict()
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    with torch.no_grad():  # weights a fresh build would not have
        for p in model.bbox_head.reg_conf.parameters():
            p.add_(0.3)
    ckpt = tmp_path / 'gflv2.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, str(ckpt))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        loaded = init_detector(str(dumped), str(ckpt), device='cpu')
    model.eval()
    feats = [torch.randn(1, 128, s, s) for s in (8, 4, 2, 1, 1)]
    with torch.no_grad():
        for a, b in zip(model.bbox_head(feats)[0], loaded.bbox_head(feats)[0]):
            torch.testing.assert_close(a, b)


def test_ld_gflv2_head_losses_from_a_gflv2_teacher_head():
    """Fast: tiny heads, the teacher head's own outputs as ``teacher_outs`` (as KDSingleStageDetector)."""
    from rotated_ld.models.dense_heads import LDGFLv2Head
    torch.manual_seed(3)
    kw = dict(num_classes=4, in_channels=8, feat_channels=8, stacked_convs=1, norm_cfg=None, strides=(8, 16))
    teacher, student = GFLv2Head(**kw).eval(), LDGFLv2Head(**kw)
    feats = [torch.randn(2, 8, 8, 10), torch.randn(2, 8, 4, 5)]
    with torch.no_grad():
        t_outs = teacher(feats)
    samples = [_sample(), _sample()]
    losses = student.loss(feats, samples, teacher_outs=t_outs)
    assert {'loss_cls', 'loss_bbox', 'loss_dfl', 'loss_ld', 'loss_ld_vlr', 'loss_kd', 'loss_kd_vlr'} <= set(losses)
    assert all(torch.isfinite(v).all() for v in losses.values())
    assert losses['loss_ld'] > 0 and losses['loss_ld_vlr'] > 0 and losses['loss_kd'] > 0
    sum(losses.values()).backward()
    assert student.reg_conf[0].weight.grad.abs().sum() > 0
    # the student distilled from itself: LD and KD vanish (same distributions, same class outputs)
    with torch.no_grad():
        own = student(feats)
    self_losses = student.loss(feats, samples, teacher_outs=own)
    for key in ('loss_ld', 'loss_ld_vlr', 'loss_kd'):
        assert abs(self_losses[key].item()) < 1e-5, key


@pytest.mark.slow
def test_ld_gflv2_student_one_step_distils_from_a_gflv2_teacher():
    cfg = Config.fromfile(STUDENT_CFG)
    cfg.model.teacher_ckpt = None
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    assert type(model.bbox_head).__name__ == 'LDGFLv2Head' and type(model.teacher.bbox_head) is GFLv2Head
    before = copy.deepcopy(model.teacher.state_dict())
    size = (64, 80)
    batch = dict(inputs=[torch.randint(0, 255, (3, *size), dtype=torch.uint8) for _ in range(2)],
                 data_samples=[_sample(size), _sample(size)])
    data = model.data_preprocessor(batch, training=True)
    losses = model(**data, mode='loss')
    assert {'loss_cls', 'loss_bbox', 'loss_dfl', 'loss_ld', 'loss_ld_vlr', 'loss_kd'} <= set(losses)
    assert all(torch.isfinite(v).all() for v in losses.values())
    assert losses['loss_ld'] > 0 and losses['loss_kd'] > 0
    sum(losses.values()).backward()
    assert model.bbox_head.reg_conf[0].weight.grad.abs().sum() > 0  # QFL trains the quality branch
    assert all(p.grad is None for p in model.teacher.parameters())
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_box_loss_weights_are_the_max_joint_score_as_gfocalv2():
    """GFocalV2: ``weight_targets = cls_score.detach().max(1)`` on the joint score σ(cls)·q."""
    torch.manual_seed(2)
    head = GFLv2Head(4, 8, stacked_convs=0, norm_cfg=None, reg_max=4, strides=(8,), octave_base_scale=4)
    with torch.no_grad():
        for p in head.reg_conf.parameters():
            p.normal_(0, 0.5)
        head.gfl_cls.bias.normal_(0, 1)
    upstream = nn.Sequential(nn.Conv2d(20, 64, 1), nn.ReLU(), nn.Conv2d(64, 1, 1), nn.Sigmoid()).double()
    upstream.load_state_dict({k: v.double() for k, v in head.reg_conf.state_dict().items()})
    x = torch.randn(1, 8, 8, 8)
    cls_scores, bbox_preds = head([x])
    s = _sample((64, 64), boxes=((4., 6., 30., 34.), (20., 18., 60., 58.)), labels=(0, 2))
    flat = head.build_flat_outputs(cls_scores, bbox_preds)
    targets = head.get_targets(flat, [s.gt_instances], [s.metainfo])
    head._core_losses(flat, targets)
    assert targets.pos_inds.numel() > 0
    raw = F.conv2d(x.double(), head.gfl_cls.weight.double(), head.gfl_cls.bias.double(), padding=1)
    with torch.no_grad():
        joint = raw.sigmoid() * upstream(_brute_force_stats(bbox_preds[0], 4, 4))  # (1, C, H, W)
    expected = joint.permute(0, 2, 3, 1).reshape(-1, 4).max(dim=1).values[targets.pos_inds]
    torch.testing.assert_close(targets.pos_weights.double(), expected, rtol=1e-4, atol=1e-7)
