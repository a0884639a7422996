"""Detectors: data preprocessor, SingleStageDetector modes, KDSingleStageDetector teacher handling.

Tiny models (R-18 with 2 stages, FPN 8 ch, 1-conv heads) on odd image sizes; CPU, ~10-20 s.
"""
import copy

import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.structures import InstanceData

from rotated_ld.registry import MODELS
from rotated_ld.structures import DetDataSample
from tests.conftest import needs_cuda

HEAD = dict(type='GFLHead', num_classes=3, in_channels=8, feat_channels=8, stacked_convs=1, norm_cfg=None,
            reg_max=8, strides=(4, 8))
TINY = dict(
    type='SingleStageDetector',
    data_preprocessor=dict(type='DetDataPreprocessor', mean=[100.0, 110.0, 120.0], std=[50.0, 50.0, 50.0],
                           bgr_to_rgb=True, pad_size_divisor=32),
    backbone=dict(type='ResNet', depth=18, num_stages=2, out_indices=(0, 1)),
    neck=dict(type='FPN', in_channels=[64, 128], out_channels=8, num_outs=2),
    bbox_head=HEAD,
    train_cfg=dict(assigner=dict(type='ATSSAssigner', topk=9)),
    test_cfg=dict(nms_pre=100, min_bbox_size=0, score_thr=0.05, nms=dict(type='nms', iou_threshold=0.6),
                  max_per_img=10))


def make_batch(scale=1.0):
    samples = []
    for (h, w), boxes in [((125, 130), [[10.0, 20.0, 60.0, 80.0]]), ((97, 101), [])]:
        s = DetDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(round(h / scale), round(w / scale)),
                                        scale_factor=(scale, scale)))
        g = InstanceData()
        g.bboxes = torch.tensor(boxes).reshape(-1, 4)
        g.labels = torch.ones(len(boxes), dtype=torch.long)
        s.gt_instances = g
        samples.append(s)
    inputs = [torch.randint(0, 256, (3, 125, 130), dtype=torch.uint8),
              torch.randint(0, 256, (3, 97, 101), dtype=torch.uint8)]
    return dict(inputs=inputs, data_samples=samples)


def kd_cfg(teacher_config, teacher_ckpt=None, **head_kw):
    cfg = copy.deepcopy(TINY)
    cfg['type'] = 'KDSingleStageDetector'
    cfg['bbox_head'].update(head_kw)
    cfg.update(teacher_config=teacher_config, teacher_ckpt=teacher_ckpt)
    return cfg


@pytest.fixture(scope='module')
def teacher_ckpt(tmp_path_factory):
    torch.manual_seed(1)
    teacher = MODELS.build(copy.deepcopy(TINY))
    path = tmp_path_factory.mktemp('teacher') / 'teacher.pth'
    torch.save({'meta': {'epoch': 1}, 'state_dict': teacher.state_dict()}, path)
    return str(path), teacher.state_dict()


def test_data_preprocessor_stacks_pads_and_normalises():
    dp = MODELS.build(TINY['data_preprocessor'])
    batch = make_batch()
    batch['inputs'][0][:] = 0
    batch['inputs'][0][0] = 10  # B channel
    batch['inputs'][0][2] = 200  # R channel
    out = dp(batch, training=False)
    x = out['inputs']
    assert x.shape == (2, 3, 128, 160) and x.dtype == torch.float32
    assert x[0, 0, 0, 0].item() == pytest.approx((200 - 100) / 50)  # BGR -> RGB, then (x - mean) / std
    assert x[0, 2, 0, 0].item() == pytest.approx((10 - 120) / 50)
    assert x[1, :, 100:, :].abs().sum() == 0  # padded with 0
    m0, m1 = out['data_samples'][0].metainfo, out['data_samples'][1].metainfo
    assert m0['batch_input_shape'] == (128, 160) and m0['pad_shape'] == (128, 160)
    assert m1['pad_shape'] == (128, 128)


def test_single_stage_modes(seed):
    model = MODELS.build(copy.deepcopy(TINY))
    data = model.data_preprocessor(make_batch(), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_cls', 'loss_bbox', 'loss_dfl'}
    sum(losses.values()).backward()
    cls, reg = model(data['inputs'], mode='tensor')
    assert [tuple(c.shape) for c in cls] == [(2, 3, 32, 40), (2, 3, 16, 20)]
    assert reg[0].shape == (2, 36, 32, 40)
    with pytest.raises(ValueError, match='mode'):
        model(data['inputs'], mode='train')


def test_predict_rescales_to_original_image(seed):
    model = MODELS.build(copy.deepcopy(TINY)).eval()
    torch.nn.init.constant_(model.bbox_head.gfl_cls.bias, 3.0)  # confident everywhere
    data = model.data_preprocessor(make_batch(scale=0.5), False)
    with torch.no_grad():
        out = model(**data, mode='predict')
    for s in out:
        p = s.pred_instances
        assert 0 < len(p) <= 10 and p.bboxes.shape[1] == 4
        h, w = s.metainfo['ori_shape']
        assert (p.bboxes[:, [0, 2]] <= w + 1e-3).all() and (p.bboxes[:, [1, 3]] <= h + 1e-3).all()
    # boxes are in original coordinates: twice those of rescale=False
    with torch.no_grad():
        feats = model.extract_feat(data['inputs'])
        raw = model.bbox_head.predict(feats, data['data_samples'], rescale=False)
    torch.testing.assert_close(out[0].pred_instances.bboxes, raw[0].bboxes * 2)


def test_kd_teacher_is_hidden_frozen_and_moved(teacher_ckpt, seed):
    path, t_state = teacher_ckpt
    model = MODELS.build(kd_cfg(dict(model=copy.deepcopy(TINY)), path))
    teacher = model.teacher
    for k, v in teacher.state_dict().items():
        torch.testing.assert_close(v, t_state[k])
    plain_keys = set(MODELS.build(copy.deepcopy(TINY)).state_dict())
    assert set(model.state_dict()) == plain_keys  # teacher absent from the checkpoint
    assert not any('teacher' in n for n, _ in model.named_modules())
    t_ids = {id(p) for p in teacher.parameters()}
    assert not t_ids & {id(p) for p in model.parameters()}  # not in the optimizer
    assert all(not p.requires_grad for p in teacher.parameters())
    model.train()
    assert model.training and not teacher.training and not teacher.backbone.bn1.training
    model.to(torch.float64)
    assert next(teacher.parameters()).dtype == torch.float64
    model.to(torch.float32)
    assert next(teacher.parameters()).dtype == torch.float32


def test_kd_train_step_feeds_teacher_outputs_and_keeps_it_frozen(teacher_ckpt, seed, monkeypatch):
    path, t_state = teacher_ckpt
    model = MODELS.build(kd_cfg(dict(model=copy.deepcopy(TINY)), path))
    seen = {}

    def spy(flat, targets, **extra):
        seen.update(extra)
        t_cls, t_reg = model.bbox_head.concat_levels(*extra['teacher_outs'])
        # a tiny distillation term so gradients flow through the student only
        return dict(loss_spy=((flat.reg_logits - t_reg) ** 2).mean() * 1e-3)

    monkeypatch.setattr(model.bbox_head, '_extra_losses', spy)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    s_before = {k: v.clone() for k, v in model.state_dict().items()}
    model.train()
    log = model.train_step(make_batch(), optim)
    assert 'loss_spy' in log and 'loss' in log
    assert len(seen['teacher_outs']) == 2 and len(seen['teacher_feats']) == 2 and len(seen['feats']) == 2
    assert not seen['teacher_outs'][1][0].requires_grad
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, t_state[k]), k  # weights and BN statistics untouched
    assert all(p.grad is None for p in model.teacher.parameters())
    assert not torch.equal(s_before['bbox_head.gfl_reg.weight'], model.bbox_head.gfl_reg.weight)


@pytest.mark.parametrize('nhwc', [None, False])
def test_kd_teacher_channels_last_matches_nchw_teacher(teacher_ckpt, seed, monkeypatch, nhwc):
    """On CPU the teacher runs in NHWC by default; its outputs equal an independent NCHW teacher's up to
    the convolutions' float reassociation, and ``teacher_channels_last=False`` keeps NCHW."""
    path, t_state = teacher_ckpt
    model = MODELS.build(kd_cfg(dict(model=copy.deepcopy(TINY)), path))
    model.teacher_channels_last = nhwc
    ref = MODELS.build(copy.deepcopy(TINY)).eval()  # the same weights, plain NCHW
    ref.load_state_dict(t_state, strict=True)
    seen = {}

    def spy(flat, targets, **extra):
        seen.update(extra)
        return dict(loss_spy=flat.reg_logits.sum() * 0)

    monkeypatch.setattr(model.bbox_head, '_extra_losses', spy)
    model.train()
    data = model.data_preprocessor(make_batch(), True)
    model.loss(data['inputs'], data['data_samples'])
    with torch.no_grad():
        want = ref.bbox_head(ref.extract_feat(data['inputs']))
    conv_w = model.teacher.backbone.conv1.weight
    assert conv_w.is_contiguous(memory_format=torch.channels_last) == (nhwc is None)
    assert not ref.backbone.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    for got_lvls, want_lvls in zip(seen['teacher_outs'], want):
        for got, exp in zip(got_lvls, want_lvls):
            torch.testing.assert_close(got, exp, rtol=1e-4, atol=1e-4)
    for k, v in model.teacher.state_dict().items():  # same values, only the layout may differ
        assert torch.equal(v, t_state[k]), k


def test_kd_student_inference_equals_plain_student(teacher_ckpt, seed):
    path, _ = teacher_ckpt
    kd = MODELS.build(kd_cfg(dict(model=copy.deepcopy(TINY)), path)).eval()
    plain = MODELS.build(copy.deepcopy(TINY)).eval()
    plain.load_state_dict(kd.state_dict(), strict=True)
    data = kd.data_preprocessor(make_batch(), False)
    with torch.no_grad():
        a = kd(data['inputs'], mode='tensor')
        b = plain(data['inputs'], mode='tensor')
    torch.testing.assert_close(a, b)


def test_kd_teacher_config_from_file(tmp_path, teacher_ckpt):
    path, _ = teacher_ckpt
    cfg_file = tmp_path / 'teacher_cfg.py'
    cfg_file.write_text(f'model = {TINY!r}\n')
    model = MODELS.build(kd_cfg(str(cfg_file), path))
    assert model.teacher.bbox_head.reg_max == 8
    with pytest.raises(FileNotFoundError, match='fileDirname'):
        MODELS.build(kd_cfg(str(tmp_path / 'missing.py'), path))


@pytest.mark.parametrize('head_kw,word', [(dict(reg_max=4), 'reg_max'), (dict(num_classes=5), 'num_classes'),
                                          (dict(strides=(8, 16)), 'strides')])
def test_kd_mismatch_fails_at_build(head_kw, word):
    with pytest.warns(UserWarning, match='teacher_ckpt=None'):
        with pytest.raises(ValueError, match=word):
            MODELS.build(kd_cfg(dict(model=copy.deepcopy(TINY)), None, **head_kw))


def test_kd_checkpoint_must_match_strictly(tmp_path):
    teacher = MODELS.build(copy.deepcopy(TINY))
    state = {f'module.{k}': v for k, v in teacher.state_dict().items()}  # DDP-saved keys are accepted
    p = tmp_path / 'ddp.pth'
    torch.save({'state_dict': state}, p)
    state.pop('module.bbox_head.integral.project')  # a constant buffer: filled in when absent
    torch.save({'state_dict': state}, p)
    MODELS.build(kd_cfg(dict(model=copy.deepcopy(TINY)), str(p)))
    state.pop('module.bbox_head.gfl_cls.weight')
    torch.save({'state_dict': state}, p)
    with pytest.raises(RuntimeError, match='gfl_cls.weight'):
        MODELS.build(kd_cfg(dict(model=copy.deepcopy(TINY)), str(p)))


def _gfl_configs():
    import glob
    import os.path as osp
    root = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))  # tests/test_models/<sub>/
    from rotated_ld.utils.config_alias import is_upstream_alias  # upstream names: tests/test_utils
    return sorted(p for p in glob.glob(osp.join(root, 'configs', 'gfl', '*.py')) if not is_upstream_alias(p))


@pytest.mark.parametrize('cfg_path', _gfl_configs(), ids=lambda p: p.rsplit('/', 1)[-1])
def test_shipped_gfl_configs_build(cfg_path):
    """Every configs/gfl file parses and its model builds (on the meta device: no memory, no init)."""
    from mmengine.config import Config
    cfg = Config.fromfile(cfg_path)
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    assert model.bbox_head.reg_max == 16 and model.bbox_head.num_classes in (8, 20, 80)
    assert cfg.default_scope == 'rotated_ld'


def test_synthetic_slim_config_steps_once(seed):
    """The CPU demo model (slim R-18 from scratch) takes one optimiser step on a fake batch."""
    import os.path as osp

    from mmengine.config import Config
    path = [p for p in _gfl_configs() if osp.basename(p) == 'gfl_r18-slim_fpn_synthetic_coco.py'][0]
    model = MODELS.build(Config.fromfile(path).model)
    model.init_weights()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    s = DetDataSample(metainfo=dict(img_shape=(61, 70), ori_shape=(61, 70), scale_factor=(1.0, 1.0)))
    s.gt_instances = InstanceData(bboxes=torch.tensor([[5.0, 8.0, 40.0, 50.0]]), labels=torch.tensor([7]))
    batch = dict(inputs=[torch.randint(0, 256, (3, 61, 70), dtype=torch.uint8)], data_samples=[s])
    log = model.train_step(batch, optim)
    assert all(torch.isfinite(v) for v in log.values())


@needs_cuda
def test_kd_cuda_moves_teacher_and_trains(teacher_ckpt):
    path, _ = teacher_ckpt
    model = MODELS.build(kd_cfg(dict(model=copy.deepcopy(TINY)), path)).cuda().train()
    assert next(model.teacher.parameters()).is_cuda and not model.teacher.training
    data = model.data_preprocessor(make_batch(), True)
    assert data['inputs'].is_cuda
    losses = model(**data, mode='loss')
    sum(losses.values()).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
