"""Every configs/rotated_retinanet and configs/rotated_ld_retinanet config loads with one consistent
angle version (head, coder, dataset pipeline) and the published settings; the LD configs name a
compatible teacher relative to themselves; the synthetic configs build and run one training step
(LD: teacher frozen, absent from the state dict) and predict. Every real config builds and steps
once under ``-m slow``. Default (``-m 'not slow'``) CPU time: ~20 s idle, ~70 s on the loaded shared machine."""
import glob
import os.path as osp
import warnings

import pytest
import torch
from mmengine.config import Config
from mmengine.structures import InstanceData

from rotated_ld.registry import MODELS
from rotated_ld.structures import DetDataSample
from rotated_ld.utils.config_alias import is_upstream_alias

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# upstream (Rotated-LD repository) names are tested in tests/test_utils/test_upstream_configs.py
RETINA = sorted(p for p in glob.glob(osp.join(ROOT, 'configs', 'rotated_retinanet', '*.py'))
                if not is_upstream_alias(p))
LD = sorted(glob.glob(osp.join(ROOT, 'configs', 'rotated_ld_retinanet', '*.py')))
SYNTH = [p for p in RETINA + LD if 'synthetic' in p]
REAL = [p for p in RETINA + LD if 'synthetic' not in p]

# published LD settings: (box loss type, LD weight, LD T, KD weight, KD T, region)
LD_EXPECTED = {
    'rotated_ld_r18-rretinanet-r34_fpn_1x_dota_oc.py': ('GDLoss_v1', 15, 5, 15, 5, 'rotated_ld'),
    'rotated_ld-gwd_r18-rretinanet-r34_fpn_1x_dota_oc.py': ('GDLoss', 10, 5, 20, 5, 'rotated_ld'),
    'rotated_ld-gwd_r18-rretinanet-r50_fpn_1x_dota_oc.py': ('GDLoss', 30, 5, 30, 5, 'rotated_ld'),
    'rotated_ld-jdet_r18-rretinanet-r34_fpn_1x_dota_oc.py': ('L1Loss', 10, 10, 10, 2, 'positives'),
}


def _build(cfg_model):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return MODELS.build(cfg_model)


@pytest.mark.parametrize('path', RETINA + LD, ids=osp.basename)
def test_config_loads_with_one_angle_version(path):
    cfg = Config.fromfile(path)
    head = cfg.model.bbox_head
    version = osp.splitext(path)[0].rsplit('_', 1)[-1]
    assert version in ('oc', 'le90', 'le135') and cfg.angle_version == version
    assert head.angle_version == head.bbox_coder.angle_version == version
    # (the synthetic configs train without validation, as the demo: their val pipeline is only a variable)
    for pipeline in (cfg.train_dataloader.dataset.pipeline, cfg.val_pipeline):
        conv = [t for t in pipeline if t['type'] == 'ConvertBoxType']
        assert conv and all(t['angle_version'] == version for t in conv)
    assert head.anchor_generator.octave_base_scale == 4 and head.anchor_generator.ratios == [1.0, 0.5, 2.0]
    assert cfg.model.test_cfg.nms.iou_threshold == 0.1
    if 'synthetic' not in path:
        assert cfg.optim_wrapper.optimizer.lr == 0.0025 and cfg.optim_wrapper.clip_grad.max_norm == 35
        assert cfg.train_dataloader.batch_size == 2
        assert cfg.val_evaluator.type == 'DOTAMetric'
        milestones = cfg.param_scheduler[1].milestones
        assert milestones == ([16, 22] if '_2x_' in path else [8, 11])
        assert cfg.param_scheduler[0].end == 500 and cfg.test_cfg.type == 'TestLoop'
    name = osp.basename(path)
    if 'distribution' in name or path in LD:
        assert head.reg_max == 8
        assert (head.loss_bbox.type in ('GDLoss', 'GDLoss_v1')) == head.reg_decoded_bbox
    if '_gwd_' in name or 'ld-gwd' in name:
        assert head.loss_bbox.type == 'GDLoss' and head.loss_bbox.loss_type == 'gwd'
    if '_kld_' in name:
        assert head.loss_bbox.type == 'GDLoss_v1' and head.loss_bbox.loss_type == 'kld'


@pytest.mark.parametrize('path', LD, ids=osp.basename)
def test_ld_config_teacher(path):
    cfg = Config.fromfile(path)
    m = cfg.model
    assert m.type == 'KDSingleStageDetector' and m.bbox_head.type == 'RotatedLDRetinaHead'
    assert osp.isabs(m.teacher_config) and osp.dirname(path) in m.teacher_config
    t = Config.fromfile(m.teacher_config)
    for key in ('num_classes', 'reg_max', 'angle_version', 'anchor_generator', 'delta_ranges', 'bbox_coder'):
        assert t.model.bbox_head.get(key) == m.bbox_head.get(key), key
    assert t.model.data_preprocessor == m.data_preprocessor
    # R-34 teachers; Rotated-LD's GWD R-50 -> R-18 row names a 1x R-50 teacher
    r50 = '-r50_' in osp.basename(path)
    assert t.model.backbone.depth == (50 if r50 else 34) and m.backbone.depth == 18
    assert t.model.bbox_head.loss_bbox == m.bbox_head.loss_bbox  # teacher trained with the student's loss
    if 'synthetic' not in path:
        assert t.train_cfg.max_epochs == (12 if r50 else 24) and cfg.train_cfg.max_epochs == 12
    name = osp.basename(path)
    if name in LD_EXPECTED:
        h = m.bbox_head
        got = (h.loss_bbox.type, h.loss_ld.loss_weight, h.loss_ld.T, h.loss_kd.loss_weight, h.loss_kd.T,
               h.get('region', 'rotated_ld'))
        assert got == LD_EXPECTED[name]


def _batch(n=2, size=(96, 112)):
    g = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for i in range(n):
        inputs.append(torch.randint(0, 255, (3, *size), generator=g, dtype=torch.uint8))
        s = DetDataSample(metainfo=dict(img_id=i, img_shape=size, ori_shape=size, scale_factor=(1.0, 1.0)))
        gt = InstanceData()
        gt.bboxes = torch.tensor([[40., 50., 50., 24., -0.5], [70., 30., 36., 30., -1.2]])
        gt.labels = torch.tensor([1, 3])
        s.gt_instances = gt
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def _train_step_and_predict(path):
    cfg = Config.fromfile(path)
    if cfg.model.type == 'KDSingleStageDetector':
        cfg.model.teacher_ckpt = None
    model = _build(cfg.model)
    model.init_weights()
    model.train()
    teacher = getattr(model, 'teacher', None)
    before = {k: v.clone() for k, v in teacher.state_dict().items()} if teacher is not None else {}
    assert not any('teacher' in k for k in model.state_dict())
    data = model.data_preprocessor(_batch(), training=True)
    losses = model(**data, mode='loss')
    expect = {'loss_cls', 'loss_bbox'} | ({'loss_ld', 'loss_kd'} if teacher is not None else set())
    assert {k for k in losses if 'loss' in k} == expect
    assert all(torch.isfinite(v).all() for v in losses.values())
    assert all(losses[k] > 0 for k in expect), {k: float(losses[k]) for k in expect}
    opt = torch.optim.SGD(model.parameters(), lr=0.001)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    opt.step()
    if teacher is not None:
        assert all(p.grad is None for p in teacher.parameters())
        assert all(torch.equal(v, before[k]) for k, v in teacher.state_dict().items())
    model.eval()
    with torch.no_grad():
        out = model(**model.data_preprocessor(_batch(1), training=False), mode='predict')
    assert out[0].pred_instances.bboxes.shape[-1] == 5


@pytest.mark.parametrize('path', [pytest.param(p, marks=pytest.mark.slow) if 'r34-slim_fpn' in p else p
                                  for p in SYNTH], ids=osp.basename)
def test_synthetic_config_trains_one_step_and_predicts(path):
    _train_step_and_predict(path)


@pytest.mark.slow
@pytest.mark.parametrize('path', REAL, ids=osp.basename)
def test_real_config_trains_one_step(path):
    _train_step_and_predict(path)
