"""ATSS / FCOS heads with a GFL distribution box branch (quality_mode='centerness') and their LD
students, against hand-computed and independently recomputed references (CPU, a few seconds)."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData

import rotated_ld.models  # noqa: F401  (registers)
from rotated_ld.models.dense_heads import ATSSGFLHead, GFLHead, LDATSSHead, LDFCOSHead
from rotated_ld.models.dense_heads.quality_mode import centerness_targets
from rotated_ld.models.losses import sigmoid_focal_loss
from rotated_ld.registry import MODELS

STRIDES = (8, 16)
RANGES = ((-1, 32), (32, 1e8))
METAS = [dict(pad_shape=(64, 64), img_shape=(64, 64), batch_input_shape=(64, 64))] * 2


def _head(cls, **kw):
    torch.manual_seed(0)
    extra = dict(regress_ranges=RANGES) if 'FCOS' in cls.__name__ else {}
    return cls(num_classes=3, in_channels=8, feat_channels=8, stacked_convs=1, norm_cfg=None,
               strides=STRIDES, **extra, **kw)


def _gts():
    gt = InstanceData(bboxes=torch.tensor([[4., 6., 40., 50.], [20., 20., 60., 44.]]),
                      labels=torch.tensor([0, 2]))
    return [gt, gt]


def _feats():
    g = torch.Generator().manual_seed(1)
    return [torch.randn(2, 8, 8, 8, generator=g), torch.randn(2, 8, 4, 4, generator=g)]


def test_centerness_targets_hand_computed():
    pts = torch.tensor([[3., 4.], [5., 4.], [0., 4.]])
    box = torch.tensor([[0., 0., 10., 8.]]).expand(3, 4)
    # l, r = 3, 7; t, b = 4, 4 -> sqrt(3/7); the centre -> 1; on the left edge -> 0
    torch.testing.assert_close(centerness_targets(pts, box), torch.tensor([math.sqrt(3 / 7), 1.0, 0.0]))


def test_quality_mode_refuses_mismatched_losses():
    with pytest.raises(ValueError, match='FocalLoss'):
        _head(GFLHead, quality_mode='centerness')  # QFL with the centerness branch
    with pytest.raises(ValueError, match='QualityFocalLoss'):
        _head(GFLHead, loss_cls=dict(type='FocalLoss'))


def test_atss_losses_match_a_manual_recomputation():
    """loss_cls = focal / #pos; loss_bbox = 2·Σ c_i (1 − GIoU_i) / Σ c_i; loss_centerness = BCE / #pos,
    with c_i the centerness of each positive's anchor centre; no DFL."""
    head = _head(ATSSGFLHead)
    cls, reg, ctr = head(_feats())
    losses = head.loss_by_feat(cls, reg, ctr, _gts(), METAS)
    assert set(losses) == {'loss_cls', 'loss_bbox', 'loss_centerness'}
    flat = head.build_flat_outputs(cls, reg, centernesses=ctr)
    t = head.get_targets(flat, _gts(), METAS)
    B, A, C = flat.cls_logits.shape
    pos = t.pos_mask.reshape(-1).nonzero().squeeze(1)
    assert pos.numel() > 0
    npos = float(pos.numel())
    focal = sigmoid_focal_loss(flat.cls_logits.reshape(-1, C), t.labels.reshape(-1)).sum(1)
    torch.testing.assert_close(losses['loss_cls'], (focal * t.label_weights.reshape(-1)).sum() / npos)
    prior = flat.priors[pos % A]
    gt_px = t.bbox_targets.reshape(-1, 4)[pos]
    c = centerness_targets(prior[:, :2], gt_px)
    # decoded prediction in pixels: distances = Σ softmax · bins, times the stride
    dist = (F.softmax(flat.reg_logits.reshape(-1, 4, 17)[pos], -1) * torch.arange(17.)).sum(-1) * prior[:, 2:3]
    pred = torch.cat([prior[:, :2] - dist[:, :2], prior[:, :2] + dist[:, 2:]], 1)
    from torchvision.ops import generalized_box_iou
    giou = torch.diag(generalized_box_iou(pred, gt_px))
    torch.testing.assert_close(losses['loss_bbox'], 2.0 * (c * (1 - giou)).sum() / max(c.sum(), 1.0),
                               rtol=1e-4, atol=1e-5)
    bce = F.binary_cross_entropy_with_logits(flat.centerness.reshape(-1)[pos], c, reduction='sum') / npos
    torch.testing.assert_close(losses['loss_centerness'], bce)


def test_test_scores_are_class_times_centerness():
    head = _head(ATSSGFLHead, test_cfg=dict(score_thr=0.0, nms_pre=-1))
    head.eval()
    with torch.no_grad():
        cls, reg, ctr = head(_feats())
        res = head.predict_by_feat(cls, reg, ctr, batch_img_metas=METAS, with_nms=False)
    flat = head.build_flat_outputs(cls, reg, centernesses=ctr)
    prob = flat.cls_logits[0].sigmoid() * flat.centerness[0].sigmoid()[:, None]
    got = torch.sort(res[0].scores).values
    want = torch.sort(prob.reshape(-1)).values
    torch.testing.assert_close(got, want)


def test_gfl_teacher_distils_an_atss_student():
    """A GFL teacher (2 outputs) and an ATSS-GFL teacher (3 outputs) both serve an ATSS student; the
    student's positives get Main LD / KD, its VLR negatives loss_ld_neg; the teacher's centerness is not
    distilled."""
    student = _head(LDATSSHead)
    outs = student(_feats())
    teachers = [_head(GFLHead)(_feats()), _head(ATSSGFLHead)(_feats())]
    res = [student.loss_by_feat(*outs, _gts(), METAS, teacher_outs=t) for t in teachers]
    assert {'loss_ld', 'loss_ld_neg', 'loss_kd'} <= set(res[0]) and 'loss_ld_vlr' not in res[0]
    for k in ('loss_ld', 'loss_ld_neg', 'loss_kd'):
        assert torch.isfinite(res[0][k]) and res[0][k] > 0
    with pytest.raises(ValueError, match='teacher_outs has 1'):
        student.loss_by_feat(*outs, _gts(), METAS, teacher_outs=teachers[0][:1])


def _kl_rows(s, t, T, bins=17):
    """Σ over the 4 edges of the reference LD KL (mean over bins, × T²) per row."""
    p = F.softmax(t.reshape(-1, 4, bins) / T, -1)
    kl = (p * (p.clamp_min(1e-12).log() - F.log_softmax(s.reshape(-1, 4, bins) / T, -1))).mean(-1) * T * T
    return kl.sum(-1)


@pytest.mark.parametrize('cls,factor', [(LDATSSHead, 0.15), (LDFCOSHead, 0.25)])
def test_negatives_ld_weights(cls, factor):
    """loss_ld_neg = factor · 0.25 · Σ_{remaining} w_i Σ_e KL_ie / 4. Remaining negatives (ATSS: the VLR,
    positives excluded; FCOS: points strictly inside a GT and not positive, brute force) and their weights
    (ATSS: IoU of the VLR; FCOS: the student's max_c σ(cls))."""
    student = _head(cls)
    outs = student(_feats())
    t_outs = tuple([o + 0.5 * torch.randn_like(o) for o in x] for x in outs)
    losses = student.loss_by_feat(*outs, _gts(), METAS, teacher_outs=t_outs)
    flat = student.build_flat_outputs(*outs[:2], centernesses=outs[2])
    t = student.get_targets(flat, _gts(), METAS)
    regions = student.distill_regions(flat, t)
    w = regions.vlr_weight
    B, A, C = flat.cls_logits.shape
    if cls is LDFCOSHead:  # brute force: a point inside some GT (strictly), not positive, weight = quality
        quality = flat.cls_logits.detach().sigmoid().max(-1).values.reshape(-1)
        ref = torch.zeros(B * A)
        for i in range(B):
            for a in range(A):
                x, y = flat.priors[a, :2].tolist()
                inside = any(x1 < x < x2 and y1 < y < y2 for x1, y1, x2, y2 in _gts()[i].bboxes.tolist())
                if inside and not bool(t.pos_mask[i, a]):
                    ref[i * A + a] = quality[i * A + a]
        torch.testing.assert_close(w, ref)
    else:
        assert not bool((w > 0)[t.pos_mask.reshape(-1)].any())
    assert bool((w > 0).any())
    m = w > 0
    kl = _kl_rows(flat.reg_logits.reshape(B * A, -1)[m], torch.cat(
        [x.permute(0, 2, 3, 1).reshape(B, -1, 68) for x in t_outs[1]], 1).reshape(B * A, -1)[m], T=10)
    torch.testing.assert_close(losses['loss_ld_neg'], factor * 0.25 * (w[m] * kl).sum() / 4,
                               rtol=1e-4, atol=1e-7)


def test_upstream_head_level_keys_are_accepted():
    head = MODELS.build(dict(type='LDFCOSHead', num_classes=3, in_channels=8, feat_channels=8, stacked_convs=1,
                             norm_cfg=None, strides=STRIDES, regress_ranges=RANGES, norm_on_bbox=False,
                             centerness_on_reg=True, center_sampling=True, conv_bias=True,
                             loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.5, T=10),
                             train_cfg=dict(assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5))))
    assert type(head.assigner).__name__ == 'FCOSAssigner' and head.distiller.loss_ld.loss_weight == 0.5
    assert head.assigner.regress_ranges == [(-1.0, 32.0), (32.0, 1e8)] and head.assigner.center_sampling
    with pytest.raises(ValueError, match='norm_on_bbox'):
        _head(LDFCOSHead, norm_on_bbox=True)
    with pytest.raises(ValueError, match='set them in train_cfg.assigner'):
        _head(LDFCOSHead, train_cfg=dict(assigner=dict(type='FCOSAssigner', strides=STRIDES)))


def test_heads_are_configurations_of_the_one_distribution_head():
    from rotated_ld.models.dense_heads import FCOSGFLHead
    for cls in (ATSSGFLHead, LDATSSHead, FCOSGFLHead, LDFCOSHead):
        assert cls.__bases__ == (GFLHead,)
        assert {k for k, v in vars(cls).items() if callable(v) and not k.startswith('__')} == set()


def test_inside_gt_region_hand_case():
    """Centres (5, 5) inside GT 0, (25, 5) on its edge (not strictly inside), (5, 5) positive in image 2,
    (50, 50) outside: only the first is in the region, with its quality."""
    from rotated_ld.models.distillers import InsideGTRegion
    half = torch.tensor([4., 4., 4., 4.])
    centres = torch.tensor([[5., 5.], [25., 5.], [50., 50.]])
    priors = torch.cat([centres, centres], 1) + half * torch.tensor([-1., -1., 1., 1.])
    gts = torch.tensor([[0., 0., 25., 20.]])
    q = torch.tensor([0.3, 0.6, 0.9])
    region = InsideGTRegion()
    torch.testing.assert_close(region(priors, [3], gts, quality=q), torch.tensor([0.3, 0.0, 0.0]))
    pos = torch.tensor([True, False, False])
    torch.testing.assert_close(region(priors, [3], gts, pos_mask=pos, quality=q), torch.zeros(3))
    with pytest.raises(ValueError, match='horizontal'):
        InsideGTRegion(box_type='rbox')


def test_export_refuses_and_region_tool_draws_centerness_heads():
    """ONNX export has no centerness output: refused in one line; show_distill_regions runs the heads'
    own region code (ATSS: the VLR negatives; FCOS: inside-GT negatives)."""
    import sys
    from pathlib import Path
    from types import SimpleNamespace

    from rotated_ld.deployment.export import DenseExportWrapper
    with pytest.raises(ValueError, match='centerness'):
        DenseExportWrapper(SimpleNamespace(backbone=None, neck=None, bbox_head=_head(LDFCOSHead)))
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / 'tools' / 'analysis_tools'))
    from show_distill_regions import compute_regions
    for cls in (LDATSSHead, LDFCOSHead):
        res = compute_regions(_head(cls), (64, 64), _gts()[0])
        assert sum(lv.main.sum() for lv in res.levels) > 0 and sum((lv.vlr > 0).sum() for lv in res.levels) > 0
