"""RotatedLDHead: angle LD properties, switches, rotated VLR, one KD training step with a tiny teacher.

CPU, a few seconds (tiny heads; the detector step uses a 1-block R-18 at 64×64).
"""
import copy
import math

import pytest
import torch
from mmengine.structures import InstanceData

from rotated_ld.models.dense_heads.rotated_ld_head import RotatedLDHead
from rotated_ld.models.distillers import overlap_fn
from rotated_ld.registry import MODELS
from rotated_ld.structures import DetDataSample

META = dict(img_shape=(64, 64), pad_shape=(64, 64), scale_factor=(1.0, 1.0))
GT_BOXES = [[30.0, 34.0, 48.0, 30.0, 0.4], [22.0, 20.0, 44.0, 30.0, 1.2]]


def tiny_ld_head(**kw):
    cfg = dict(feat_channels=8, stacked_convs=1, norm_cfg=None, strides=(8, 16))
    cfg.update(kw)
    return RotatedLDHead(3, 8, **cfg)


def feats(seed=1):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(1, 8, 8, 8, generator=g), torch.randn(1, 8, 4, 4, generator=g)]


def gts():
    inst = InstanceData()
    inst.bboxes = torch.tensor(GT_BOXES)
    inst.labels = torch.tensor([0, 2])
    return [inst]


def ld_losses(head, outs, teacher_outs):
    return head.loss_by_feat(*outs, gts(), [META], teacher_outs=teacher_outs)


def test_keys_and_finite(seed):
    head = tiny_ld_head()
    outs = head(feats())
    teacher = tiny_ld_head()
    with torch.no_grad():
        t_outs = teacher(feats(2))
    losses = ld_losses(head, outs, t_outs)
    expected = {'loss_cls', 'loss_bbox', 'loss_dfl', 'loss_angle', 'loss_ld', 'loss_ld_vlr', 'loss_kd',
                'loss_kd_vlr', 'loss_ld_angle', 'loss_ld_vlr_angle'}
    assert set(losses) == expected
    for k, v in losses.items():
        assert torch.isfinite(v), k
    for k in ('loss_ld', 'loss_ld_vlr', 'loss_kd', 'loss_ld_angle', 'loss_ld_vlr_angle'):
        assert losses[k].item() > 0, k
    sum(losses.values()).backward()
    assert head.gfl_angle.weight.grad.abs().sum() > 0


def test_angle_ld_is_zero_for_teacher_equal_student(seed):
    head = tiny_ld_head()
    outs = head(feats())
    t_outs = tuple([o.detach().clone() for o in lvl] for lvl in outs)
    losses = ld_losses(head, outs, t_outs)
    for k in ('loss_ld', 'loss_ld_vlr', 'loss_kd', 'loss_ld_angle', 'loss_ld_vlr_angle'):
        assert abs(losses[k].item()) < 1e-6, k


@pytest.mark.parametrize('shift', [1, 17, 35])
def test_angle_ld_unchanged_under_a_cyclic_shift_of_both(shift, seed):
    head = tiny_ld_head()
    teacher = tiny_ld_head()
    with torch.no_grad():
        teacher.gfl_angle.weight.normal_(0, 0.5)
        t_outs = teacher(feats(2))
    outs = head(feats())

    def rolled(o):
        return (o[0], o[1], [torch.roll(a, shift, dims=1) for a in o[2]])

    base = ld_losses(head, outs, t_outs)
    shifted = ld_losses(head, rolled(outs), rolled(t_outs))
    for k in ('loss_ld_angle', 'loss_ld_vlr_angle'):
        assert base[k].item() > 0
        assert torch.allclose(base[k], shifted[k], rtol=1e-5, atol=1e-7), k
    # the edge / class terms do not see the angle at all
    for k in ('loss_ld', 'loss_kd', 'loss_ld_vlr'):
        assert torch.allclose(base[k], shifted[k]), k


def test_switches_edges_only_angle_only():
    t_outs = tuple([o.detach() for o in lvl] for lvl in tiny_ld_head()(feats(2)))
    edges = ld_losses(tiny_ld_head(distill_angle=False), tiny_ld_head(distill_angle=False)(feats()), t_outs)
    assert 'loss_ld' in edges and 'loss_ld_angle' not in edges
    head = tiny_ld_head(distill_edges=False)
    angle = ld_losses(head, head(feats()), t_outs)
    assert 'loss_ld' not in angle and 'loss_ld_vlr' not in angle
    assert angle['loss_ld_angle'].item() > 0 and 'loss_kd' in angle
    with pytest.raises(ValueError, match='distribution angle coder'):
        tiny_ld_head(angle_coder=dict(type='PlainAngleCoder'), distill_angle=True)
    plain = tiny_ld_head(angle_coder=dict(type='PlainAngleCoder'))
    assert plain.angle_distiller is None


def test_angle_ld_weights_and_temperature_are_configurable():
    custom = dict(type='LDDistiller', loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.1,
                                                   T=2, bin_reduction='sum'),
                  loss_ld_vlr=None, loss_kd=None, loss_kd_vlr=None, loss_im=None, vlr=None, suffix='_angle',
                  ld_divisor=1.0)
    head = tiny_ld_head(angle_distiller=custom)
    assert head.angle_distiller.loss_ld.T == 2 and head.angle_distiller.loss_ld.loss_weight == 0.1
    t_outs = tuple([o.detach() for o in lvl] for lvl in tiny_ld_head()(feats(2)))
    losses = ld_losses(head, head(feats()), t_outs)
    assert 'loss_ld_vlr_angle' not in losses and losses['loss_ld_angle'].item() > 0


def test_rotated_vlr_overlap_fn_known_case():
    fn = overlap_fn('rbox', 'diou')
    prior = torch.tensor([[0.0, 0.0, 8.0, 8.0]])
    # the same square as a rotated box → IoU 1, D 1; a 90°-turned copy too
    iou, d = fn(prior, torch.tensor([[4.0, 4.0, 8.0, 8.0, 0.0], [4.0, 4.0, 8.0, 8.0, math.pi / 2]]))
    assert torch.allclose(iou, torch.ones(1, 2), atol=1e-5) and torch.allclose(d, torch.ones(1, 2), atol=1e-5)
    # disjoint box 8 px to the right: IoU 0, D = −ρ²/c² = −64 / (16² + 8²)
    iou, d = fn(prior, torch.tensor([[12.0, 4.0, 8.0, 8.0, 0.0]]))
    assert iou.item() == pytest.approx(0.0, abs=1e-6)
    assert d.item() == pytest.approx(-64 / 320, rel=1e-4)


def test_vlr_weights_exclude_positives(seed):
    head = tiny_ld_head()
    flat = head.build_flat_outputs(*head(feats()))
    targets = head.get_targets(flat, gts(), [META])
    v = head.distill_regions(flat, targets).vlr_weight
    assert (v > 0).any()
    assert (v[targets.pos_mask.reshape(-1)] == 0).all()


def _tiny_detector_cfg(head_type='RotatedGFLHead', **head_kw):
    return dict(
        type='SingleStageDetector',
        data_preprocessor=dict(type='DetDataPreprocessor', mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_size_divisor=32),
        backbone=dict(type='ResNet', depth=18, out_indices=(1, 2, 3), norm_eval=False),
        neck=dict(type='FPN', in_channels=[128, 256, 512], out_channels=16, start_level=0,
                  add_extra_convs='on_output', num_outs=3),
        bbox_head=dict(type=head_type, num_classes=3, in_channels=16, feat_channels=16, stacked_convs=1,
                       norm_cfg=None, strides=(8, 16, 32), **head_kw),
        train_cfg=dict(assigner=dict(type='RotatedATSSAssigner', topk=9)),
        test_cfg=dict(nms_pre=100, score_thr=0.05, min_bbox_size=0,
                      nms=dict(type='nms_rotated', iou_threshold=0.1), max_per_img=20))


def _batch():
    inputs = [torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)]
    s = DetDataSample(metainfo=dict(img_shape=(64, 64), ori_shape=(64, 64), pad_shape=(64, 64),
                                    scale_factor=(1.0, 1.0)))
    s.gt_instances = gts()[0]
    return dict(inputs=inputs, data_samples=[s])


def test_one_training_step_with_a_tiny_teacher(seed):
    teacher_cfg = _tiny_detector_cfg()
    student_cfg = _tiny_detector_cfg('RotatedLDHead')
    student_cfg.update(type='KDSingleStageDetector', teacher_config=copy.deepcopy(teacher_cfg))
    with pytest.warns(UserWarning, match='teacher_ckpt=None'):
        model = MODELS.build(student_cfg)
    model.train()
    assert not model.teacher.training
    assert not any(k.startswith('teacher') or '_teacher' in k for k in model.state_dict())
    optim = torch.optim.SGD(model.parameters(), lr=0.01)
    data = model.data_preprocessor(_batch(), True)
    losses = model(**data, mode='loss')
    assert {'loss_ld', 'loss_ld_angle', 'loss_kd', 'loss_angle'} <= set(losses)
    for k, v in losses.items():
        assert torch.isfinite(v).all(), k
    total, _ = model.parse_losses(losses)
    optim.zero_grad()
    total.backward()
    optim.step()
    model.eval()
    with torch.no_grad():
        pred = model(**model.data_preprocessor(_batch(), False), mode='predict')
    assert pred[0].pred_instances.bboxes.shape[-1] == 5


def test_teacher_with_other_angle_version_is_refused():
    teacher_cfg = _tiny_detector_cfg(angle_version='le135')
    student_cfg = _tiny_detector_cfg('RotatedLDHead')
    student_cfg.update(type='KDSingleStageDetector', teacher_config=teacher_cfg)
    with pytest.raises(ValueError, match='angle_version'), pytest.warns(UserWarning):
        MODELS.build(student_cfg)


def test_empty_gt_gives_zero_distillation_terms(seed):
    head = tiny_ld_head()
    outs = head(feats())
    t_outs = tuple([o.detach() + 0.3 for o in lvl] for lvl in tiny_ld_head()(feats(2)))
    empty = InstanceData(bboxes=torch.zeros(0, 5), labels=torch.zeros(0, dtype=torch.long))
    losses = head.loss_by_feat(*outs, [empty], [META], teacher_outs=t_outs)
    for k, v in losses.items():
        assert torch.isfinite(v), k
    for k in ('loss_ld', 'loss_ld_vlr', 'loss_kd', 'loss_ld_angle', 'loss_ld_vlr_angle', 'loss_bbox'):
        assert losses[k].item() == 0, k
    sum(losses.values()).backward()  # still connected to the graph
