"""RetinaNet-GFL / LD RetinaNet configs (the LD repository's RetinaNet rows) and the synthetic Self-LD VOC
config: the slim synthetic teacher / student build and run one training step (student: LD terms present,
teacher frozen) and predict; under ``-m slow`` each teacher → student pair trains through ``tools/train.py``
on a written synthetic set, with the loss falling and the LD terms in the student's log."""
import os
import os.path as osp
import re
import subprocess
import sys
import warnings

import pytest
import torch
from mmengine.config import Config
from mmengine.structures import InstanceData

from rotated_ld.registry import MODELS
from rotated_ld.structures import DetDataSample

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
RETINA_TEACHER = 'configs/gfl/retinanet-gfl_r18-slim_fpn_synthetic_coco.py'
RETINA_STUDENT = 'configs/ld/ld_r18-slim-retinanet-gfl-r18-slim_fpn_synthetic_coco.py'
SELF_TEACHER = 'configs/gfl/gfl_r18-slim_fpn_synthetic_voc.py'
SELF_STUDENT = 'configs/ld/self-ld_r18-slim-gfl-r18-slim_fpn_synthetic_voc.py'


def _batch(n=2, size=(96, 112)):
    g = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for i in range(n):
        inputs.append(torch.randint(0, 255, (3, *size), generator=g, dtype=torch.uint8))
        s = DetDataSample(metainfo=dict(img_id=i, img_shape=size, ori_shape=size, scale_factor=(1.0, 1.0)))
        s.gt_instances = InstanceData(bboxes=torch.tensor([[10., 12., 50., 60.], [56., 20., 100., 70.]]),
                                      labels=torch.tensor([1, 3]))
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize('path', [RETINA_TEACHER, RETINA_STUDENT, SELF_STUDENT], ids=osp.basename)
def test_synthetic_config_trains_one_step_and_predicts(path):
    cfg = Config.fromfile(osp.join(ROOT, path))
    kd = cfg.model.type == 'KDSingleStageDetector'
    if kd:
        cfg.model.teacher_ckpt = None
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    teacher = getattr(model, 'teacher', None)
    before = {k: v.clone() for k, v in teacher.state_dict().items()} if kd else {}
    losses = model(**model.data_preprocessor(_batch(), training=True), mode='loss')
    terms = {k for k in losses if k.startswith('loss')}
    if 'retinanet' in path:
        assert terms == {'loss_cls', 'loss_bbox'} | ({'loss_ld', 'loss_ld_vlr', 'loss_kd'} if kd else set())
    else:  # Self-LD, main region only: VLR / KD logged as exact zeros
        assert {'loss_ld', 'loss_ld_vlr', 'loss_kd'} <= terms and float(losses['loss_kd'].detach()) == 0
    assert all(torch.isfinite(v).all() for v in losses.values())
    assert all(float(losses[k].detach()) > 0 for k in terms if k in ('loss_cls', 'loss_bbox', 'loss_ld'))
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    torch.optim.SGD(model.parameters(), lr=0.001).step()
    if kd:
        assert all(p.grad is None for p in teacher.parameters())
        assert all(torch.equal(v, before[k]) for k, v in teacher.state_dict().items())
        assert not any('teacher' in k for k in model.state_dict())
    model.eval()
    with torch.no_grad():
        out = model(**model.data_preprocessor(_batch(1), training=False), mode='predict')
    assert out[0].pred_instances.bboxes.shape[-1] == 4


# ------------------------------------------------------------------------------------ slow: tools/train.py
EPOCHS, IMAGES = 6, 8  # 4 iterations per epoch at batch 2: 24 logged iterations


def _child(tmp, base: str, data: dict, ckpt: str | None = None) -> str:
    """A config inheriting ``base`` that trains on the written set, small images, log every iteration."""
    path = tmp / (osp.basename(base)[:-3] + '_test.py')
    pipeline = ("[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True), "
                "dict(type='Resize', scale=(192, 192), keep_ratio=True), dict(type='RandomFlip', prob=0.5), "
                "dict(type='PackDetInputs')]")
    lines = [f"_base_ = '{osp.join(ROOT, base)}'",
             f'train_dataloader = dict(batch_size=2, dataset=dict(pipeline={pipeline}, **{data!r}))',
             f'train_cfg = dict(max_epochs={EPOCHS})',
             'val_cfg = None', 'val_dataloader = None', 'val_evaluator = None',
             "param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=4)]",
             f'default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval={EPOCHS}))',
             'log_processor = dict(window_size=1)', 'randomness = dict(seed=0)']
    if ckpt:
        lines.append(f"model = dict(teacher_ckpt='{ckpt}')")
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


def _train(config: str, work_dir) -> str:
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=os.pathsep.join([ROOT, os.environ.get('PYTHONPATH', '')]))
    r = subprocess.run([sys.executable, 'tools/train.py', config, '--work-dir', str(work_dir)], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=900)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    return out


def _losses(log: str, key: str) -> list[float]:
    return [float(v) for v in re.findall(rf'\s{key}: (-?[\d.]+(?:e[-+]?\d+)?)', log)]


def _check_student(log: str, terms: tuple) -> None:
    total = _losses(log, 'loss')
    assert len(total) >= EPOCHS * IMAGES // 2 - 1, log[-3000:]
    first, last = sum(total[:4]) / 4, sum(total[-4:]) / 4
    assert last < 0.9 * first, (first, last)  # the loss falls
    for term in terms:
        values = _losses(log, term)
        assert len(values) == len(total) and all(v == v for v in values), term  # logged every iteration, finite
        assert max(values) > 0, term


def _pair(tmp, teacher: str, student: str, data: dict) -> str:
    t_log = _train(_child(tmp, teacher, data), tmp / 'teacher')
    assert _losses(t_log, 'loss')
    ckpt = tmp / 'teacher' / f'epoch_{EPOCHS}.pth'
    assert ckpt.exists()
    return _train(_child(tmp, student, data, str(ckpt)), tmp / 'student')


@pytest.mark.slow
def test_retinanet_gfl_teacher_then_ld_student_train(tmp_path):
    from rotated_ld.datasets.synthetic import write_coco_set

    paths = write_coco_set(str(tmp_path / 'coco'), {'train2017': IMAGES}, (160, 192), seed=1)
    data = dict(data_root=str(tmp_path / 'coco') + '/', ann_file=osp.relpath(paths['train2017'], tmp_path / 'coco'))
    log = _pair(tmp_path, RETINA_TEACHER, RETINA_STUDENT, data)
    _check_student(log, ('loss_cls', 'loss_bbox', 'loss_ld', 'loss_ld_vlr', 'loss_kd'))


@pytest.mark.slow
def test_self_ld_voc_teacher_then_same_architecture_student_train(tmp_path):
    from rotated_ld.datasets.synthetic import write_voc_set

    write_voc_set(str(tmp_path), {'trainval': IMAGES}, (160, 192), seed=2)
    data = dict(data_root=str(tmp_path / 'VOCdevkit') + '/')
    assert Config.fromfile(osp.join(ROOT, SELF_STUDENT)).model.teacher_config.endswith(SELF_TEACHER.split('/', 1)[1])
    log = _pair(tmp_path, SELF_TEACHER, SELF_STUDENT, data)
    _check_student(log, ('loss_cls', 'loss_bbox', 'loss_dfl', 'loss_ld'))
