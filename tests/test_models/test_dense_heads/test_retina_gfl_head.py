"""RetinaGFLHead / LDRetinaHead (the LD repository's horizontal RetinaNet with GFL edge distributions)
against brute-force references written from the upstream rules, independent of the head's code:
anchors from explicit loops, channels indexed per (anchor, class / edge, y, x) of the raw maps,
max-IoU assignment, focal loss and GIoU from torchvision, the VLR from its definition (ATSS
threshold over the 9 nearest anchors per level, ``α·thr ≤ IoU − ρ²/c² < thr``, positives removed)."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData
from torchvision.ops import box_iou, generalized_box_iou_loss, nms, sigmoid_focal_loss

import rotated_ld.models  # noqa: F401
from rotated_ld.models.dense_heads import LDRetinaHead, RetinaGFLHead, RotatedRetinaHead

STRIDES = (8, 16)
SIZES = ((8, 8), (4, 4))
C, R, A = 3, 17, 9
IMG = (64, 64)
KW = dict(num_classes=C, in_channels=8, feat_channels=8, stacked_convs=1,
          anchor_generator=dict(type='AnchorGenerator', strides=list(STRIDES), octave_base_scale=4,
                                scales_per_octave=3, ratios=[0.5, 1.0, 2.0]))
# two well separated GTs per image (no GT competes for an anchor: low-quality matches add nothing)
GTS = [InstanceData(bboxes=torch.tensor([[2., 4., 30., 24.], [30., 28., 62., 60.]]), labels=torch.tensor([0, 2])),
       InstanceData(bboxes=torch.tensor([[10., 10., 50., 40.]]), labels=torch.tensor([1]))]
METAS = [dict(img_shape=IMG, scale_factor=(1.0, 1.0))] * 2


def _ref_anchors():
    """Rows (level, y, x, a) with xyxy anchor, centre, stride, level."""
    rows = []
    for lvl, (s, (h, w)) in enumerate(zip(STRIDES, SIZES)):
        for y in range(h):
            for x in range(w):
                for r in (0.5, 1.0, 2.0):
                    for k in range(3):
                        scale = 4 * 2 ** (k / 3)
                        aw, ah = s * scale / math.sqrt(r), s * scale * math.sqrt(r)
                        cx, cy = x * s, y * s
                        rows.append((lvl, y, x, len(rows) % A, [cx - aw / 2, cy - ah / 2, cx + aw / 2, cy + ah / 2],
                                     s))
    return rows


ROWS = _ref_anchors()
ANCHORS = torch.tensor([r[4] for r in ROWS])
STRIDE = torch.tensor([float(r[5]) for r in ROWS])
LEVEL = torch.tensor([r[0] for r in ROWS])


def _gather(maps, per_anchor):
    """(B, len(ROWS), per_anchor) from per-level (B, A·per_anchor, H, W) maps, indexed row by row."""
    out = [maps[lvl][:, a * per_anchor:(a + 1) * per_anchor, y, x] for lvl, y, x, a, _, _ in ROWS]
    return torch.stack(out, 1)


def _outputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    cls = [torch.randn(2, A * C, h, w, generator=g) - 2 for h, w in SIZES]
    reg = [torch.randn(2, A * 4 * R, h, w, generator=g) for h, w in SIZES]
    return cls, reg


def _ref_assign(gt):
    iou = box_iou(ANCHORS, gt.bboxes)  # (N, G)
    best, arg = iou.max(1)
    labels = torch.full((len(ROWS),), C, dtype=torch.long)
    pos = best >= 0.5
    labels[pos] = gt.labels[arg[pos]]
    weight = ((best < 0.4) | pos).float()
    return pos, labels, weight, gt.bboxes[arg]


def _edges(reg_rows):
    p = reg_rows.reshape(*reg_rows.shape[:-1], 4, R).softmax(-1)
    return (p * torch.arange(R, dtype=torch.float32)).sum(-1)


def _decode(dist, anchors, strides):
    c = (anchors[:, :2] + anchors[:, 2:]) / 2
    d = dist * strides[:, None]
    return torch.cat([c - d[:, :2], c + d[:, 2:]], 1)


def test_heads_are_the_one_anchor_head_with_the_hbox_coding():
    for cls in (RetinaGFLHead, LDRetinaHead):
        assert cls.__bases__ == (RotatedRetinaHead,)
    h = RetinaGFLHead(**KW)
    assert h.box_type == 'hbox' and h.angle_version is None and h.reg_max == 16
    assert h.retina_reg.out_channels == A * 4 * R and h.retina_cls.out_channels == A * C
    assert 'integral.project' in h.state_dict()
    priors, _ = h.priors(SIZES, 'cpu')
    assert torch.allclose(priors, ANCHORS, atol=1e-4)
    with pytest.raises(ValueError, match='bbox_coder'):
        RetinaGFLHead(**KW, bbox_coder=dict(type='DeltaXYWHBBoxCoder'))
    with pytest.raises(ValueError, match='reg_decoded_bbox'):
        RetinaGFLHead(**KW, reg_decoded_bbox=False)
    with pytest.raises(ValueError, match='AnchorGenerator'):
        RetinaGFLHead(**dict(KW, anchor_generator=dict(type='RotatedAnchorGenerator', strides=[8, 16])))


def test_loss_matches_the_upstream_rules():
    head = RetinaGFLHead(**KW)
    cls, reg = _outputs()
    losses = head.loss_by_feat(cls, reg, GTS, METAS)
    c_rows, r_rows = _gather(cls, C), _gather(reg, 4 * R)
    loss_cls = loss_box = 0.0
    avg = 0
    for b, gt in enumerate(GTS):
        pos, labels, weight, assigned = _ref_assign(gt)
        assert pos.sum() > 0
        onehot = F.one_hot(labels, C + 1)[:, :C].float()
        loss_cls = loss_cls + (sigmoid_focal_loss(c_rows[b], onehot, 0.25, 2.0, 'none').sum(1) * weight).sum()
        s = STRIDE[pos][:, None]
        pred = _decode(_edges(r_rows[b][pos]), ANCHORS[pos], STRIDE[pos]) / s
        loss_box = loss_box + generalized_box_iou_loss(pred, assigned[pos] / s, reduction='sum')
        avg += max(int(pos.sum()), 1)
    assert torch.allclose(losses['loss_cls'], loss_cls / avg, rtol=1e-4)
    assert torch.allclose(losses['loss_bbox'], 2.0 * loss_box / avg, rtol=1e-4)
    assert int(losses['num_pos']) == sum(int(_ref_assign(g)[0].sum()) for g in GTS)


def test_optional_dfl_is_mean_dfl_of_the_edges():
    head = RetinaGFLHead(**KW, loss_dfl=dict(type='DistributionFocalLoss', loss_weight=0.25))
    cls, reg = _outputs(1)
    got = head.loss_by_feat(cls, reg, GTS, METAS)['loss_dfl']
    r_rows = _gather(reg, 4 * R)
    total, avg = 0.0, 0
    for b, gt in enumerate(GTS):
        pos, _, _, assigned = _ref_assign(gt)
        s = STRIDE[pos][:, None]
        ctr = (ANCHORS[pos, :2] + ANCHORS[pos, 2:]) / 2 / s
        g = assigned[pos] / s
        target = torch.cat([ctr - g[:, :2], g[:, 2:] - ctr], 1).clamp(0, 16 - 0.1).reshape(-1)
        logp = r_rows[b][pos].reshape(-1, R).log_softmax(-1)
        lo = target.floor().long()
        wr = target - lo
        left, right = logp.gather(1, lo[:, None])[:, 0], logp.gather(1, lo[:, None] + 1)[:, 0]
        total = total - ((1 - wr) * left + wr * right).sum()
        avg += max(int(pos.sum()), 1)
    assert torch.allclose(got, 0.25 * total / (4 * avg), rtol=1e-4)
    with pytest.raises(ValueError, match='loss_dfl'):
        RotatedRetinaHead(num_classes=3, in_channels=8, loss_dfl=dict(type='DistributionFocalLoss'))


def test_predict_decodes_edges_from_the_anchor_centre():
    head = RetinaGFLHead(**dict(KW, test_cfg=dict(nms_pre=1000, score_thr=0.05, nms=dict(type='nms', iou_threshold=0.6),
                                                  max_per_img=1000)))
    cls, reg = _outputs(2)
    cls = [c + 2.5 for c in cls]  # many scores over the threshold
    # edges of about 1.5 strides (random logits would give ~8 strides: every box the whole image)
    bias = -0.6 * torch.arange(R, dtype=torch.float32).repeat(A * 4)[None, :, None, None]
    reg = [r * 2 + bias for r in reg]
    meta = dict(img_shape=IMG, scale_factor=(2.0, 0.5))
    got = head.predict_by_feat(cls, reg, [meta, meta], rescale=True)[0]
    scores = _gather(cls, C)[0].sigmoid()
    boxes = _decode(_edges(_gather(reg, 4 * R)[0]), ANCHORS, STRIDE)
    boxes = torch.stack([boxes[:, 0].clamp(0, 64), boxes[:, 1].clamp(0, 64), boxes[:, 2].clamp(0, 64),
                         boxes[:, 3].clamp(0, 64)], 1) / torch.tensor([2.0, 0.5, 2.0, 0.5])
    ref_boxes, ref_scores, ref_labels = [], [], []
    for c in range(C):
        keep = scores[:, c] > 0.05
        b, s = boxes[keep], scores[keep, c]
        k = nms(b, s, 0.6)
        ref_boxes.append(b[k])
        ref_scores.append(s[k])
        ref_labels.append(torch.full((len(k),), c))
    ref_boxes, ref_scores, ref_labels = torch.cat(ref_boxes), torch.cat(ref_scores), torch.cat(ref_labels)
    assert len(got.bboxes) == len(ref_boxes) > 20
    # as sets: every reference detection has a prediction of its class and score on the same box
    iou = box_iou(ref_boxes, got.bboxes)
    same = (ref_labels[:, None] == got.labels[None]) & ((ref_scores[:, None] - got.scores[None]).abs() < 1e-5)
    assert bool(((iou > 1 - 1e-4) & same).any(1).all())


def _ref_vlr(gt, pos):
    """Upstream LDRetinaHead.assign_neg with true DIoU, positives removed: (N,) weights."""
    g = gt.bboxes
    iou = box_iou(ANCHORS, g)
    ac, gc = (ANCHORS[:, :2] + ANCHORS[:, 2:]) / 2, (g[:, :2] + g[:, 2:]) / 2
    rho2 = ((ac[:, None] - gc[None]) ** 2).sum(-1)
    lt = torch.minimum(ANCHORS[:, None, :2], g[None, :, :2])
    rb = torch.maximum(ANCHORS[:, None, 2:], g[None, :, 2:])
    diou = iou - rho2 / (((rb - lt) ** 2).sum(-1) + 1e-6)
    dist = rho2.sqrt()
    thr = []
    for j in range(len(g)):
        cand = torch.cat([torch.nonzero(LEVEL == lvl)[:, 0][dist[LEVEL == lvl, j].argsort()[:9]] for lvl in (0, 1)])
        v = iou[cand, j]
        thr.append(v.mean() + v.std())
    thr = torch.stack(thr)
    ok = (diou >= 0.25 * thr) & (diou < thr)
    w = torch.where(ok, iou, torch.zeros_like(iou)).max(1).values
    w[pos] = 0
    return w


def _kl_rows(s, t, T):
    """T²·mean over the row of KL(softmax(t/T) ‖ softmax(s/T)), one softmax over the whole row."""
    p = (t / T).softmax(-1)
    return (p * (p.log() - (s / T).log_softmax(-1))).mean(-1) * T * T


def test_ld_terms_match_the_upstream_rules():
    student = LDRetinaHead(**KW)
    cls, reg = _outputs(3)
    t_cls, t_reg = _outputs(4)
    losses = student.loss_by_feat(cls, reg, GTS, METAS, teacher_outs=(t_cls, t_reg))
    assert {'loss_ld', 'loss_ld_vlr', 'loss_kd'} <= set(losses)
    sc, sr, tc, tr = _gather(cls, C), _gather(reg, 4 * R), _gather(t_cls, C), _gather(t_reg, 4 * R)
    ld = vlr = 0.0
    kd_lvl = [[] for _ in STRIDES]
    for b, gt in enumerate(GTS):
        pos = _ref_assign(gt)[0]
        w = sc[b].sigmoid().max(1).values * pos
        kl = _kl_rows(sr[b], tr[b], 10)  # joint softmax over the anchor's 68 bins (upstream)
        ld = ld + (w * kl).sum() / 4
        v = _ref_vlr(gt, pos)
        assert (v > 0).sum() > 0
        vlr = vlr + (v * kl).sum() / 4
        kd = _kl_rows(sc[b], tc[b], 8)
        for lvl in range(len(STRIDES)):
            kd_lvl[lvl].append(kd[pos & (LEVEL == lvl)])
    kd = sum(torch.cat(k).mean() for k in kd_lvl if len(torch.cat(k)))
    assert torch.allclose(losses['loss_ld'], 5 * ld, rtol=1e-4)
    assert torch.allclose(losses['loss_ld_vlr'], 0.15 * vlr, rtol=1e-4)
    assert torch.allclose(losses['loss_kd'], 10 * kd, rtol=1e-4)


def test_per_distribution_softmax_is_one_kl_per_edge():
    student = LDRetinaHead(**KW, ld_softmax='per_distribution', distiller=dict(loss_ld_vlr=None, loss_kd=None))
    cls, reg = _outputs(5)
    t_cls, t_reg = _outputs(6)
    got = student.loss_by_feat(cls, reg, GTS, METAS, teacher_outs=(t_cls, t_reg))
    assert set(k for k in got if k.startswith('loss_')) == {'loss_cls', 'loss_bbox', 'loss_ld'}
    sc, sr, tr = _gather(cls, C), _gather(reg, 4 * R), _gather(t_reg, 4 * R)
    ref = 0.0
    for b, gt in enumerate(GTS):
        pos = _ref_assign(gt)[0]
        w = sc[b].sigmoid().max(1).values * pos
        kl = _kl_rows(sr[b].reshape(-1, 4, R), tr[b].reshape(-1, 4, R), 10).sum(-1)
        ref = ref + (w * kl).sum() / 4
    assert torch.allclose(got['loss_ld'], 5 * ref, rtol=1e-4)


def test_upstream_head_level_keys_and_teacher_mismatch():
    h = LDRetinaHead(**KW, loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=2, T=4))
    assert h.distiller.loss_ld.loss_weight == 2 and h.distiller.loss_ld.T == 4
    cls, reg = _outputs(7)
    t = RetinaGFLHead(**dict(KW, reg_max=8))(tuple(torch.rand(2, 8, *s) for s in SIZES))
    with pytest.raises(ValueError, match='box channels per location'):
        h.loss_by_feat(cls, reg, GTS, METAS, teacher_outs=t)
