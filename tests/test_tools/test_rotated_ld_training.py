"""Teacher → LD student through the user's tools on synthetic DOTA scenes (issues 7 and 8).

For the two rotated families (Rotated-LD's KLD RetinaNet, R-34 → R-18, and the angle-aware rotated
GFL of the demo): ``tools/train.py`` trains a teacher for a few iterations, then
``tools/dist_train.sh CONFIG 2`` trains the LD student from it in two processes (gloo on CPU).
Checks: both ranks ran, the loss terms of the distillation are logged, the student's checkpoint
holds no teacher weights and carries the student's convention meta, and ``tools/test.py`` scores
the checkpoint on merged full scenes. Plumbing, not accuracy: 2–4 iterations at 128 px.
"""
import os
import os.path as osp
import re
import subprocess
import sys

import pytest

from tests.conftest import free_port

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
FAMILIES = {
    'rotated-ld-retinanet-kld': (
        'configs/rotated_retinanet/rotated_retinanet_distribution_kld_r34-slim_fpn_synthetic_dota_oc.py',
        'configs/rotated_ld_retinanet/rotated_ld_r18-slim-rretinanet-r34-slim_fpn_synthetic_dota_oc.py',
        ('loss_ld', 'loss_kd', 'ld_da')),
    'rotated-gfl-angle-ld': (
        'configs/demo/rotated-gfl_r18-slim_fpn_synthetic-dota_le90.py',
        'configs/demo/rotated-ld_r18-slim-rgfl-r18-slim-long_fpn_synthetic-dota_le90.py',
        ('loss_ld', 'loss_ld_angle', 'loss_kd', 'loss_ld_vlr')),
}


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    from rotated_ld.datasets.split import SplitConfig, split_dataset
    from rotated_ld.datasets.synthetic import make_dota_scenes

    root = tmp_path_factory.mktemp('synthetic_dota')
    for split, start in (('train', 0), ('val', 100)):
        make_dota_scenes(str(root / 'scenes' / split), num=2, size_range=(400, 500), seed=3, start=start)
        split_dataset([str(root / 'scenes' / split / 'images')], str(root / 'split' / split),
                      ann_dirs=[str(root / 'scenes' / split / 'labelTxt')],
                      cfg=SplitConfig(sizes=(256,), gaps=(64,), rates=(1.0,)), nproc=1, logger=lambda m: None)
    return root


def _options(root, iters):
    split = f'{root}/split/'
    return [f'train_dataloader.dataset.data_root={split}', f'test_dataloader.dataset.data_root={split}',
            f'test_evaluator.gt_dir={root}/scenes/val/labelTxt/', 'train_dataloader.batch_size=2',
            f'train_cfg.max_iters={iters}', 'param_scheduler.0.end=1', 'param_scheduler.1.begin=1',
            'default_hooks.logger.interval=1', 'log_processor.window_size=1']


def _env():
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()), OMP_NUM_THREADS='1')
    env['PYTHONPATH'] = os.pathsep.join([ROOT, env.get('PYTHONPATH', '')])
    return env


def _check(r):
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    return r.stdout + r.stderr


@pytest.mark.skipif(sys.platform != 'linux', reason='bash launcher')
@pytest.mark.parametrize('family', list(FAMILIES))
def test_teacher_then_two_process_ld_student(family, data, tmp_path):
    from rotated_ld.utils import safe_torch_load

    teacher_cfg, student_cfg, ld_terms = FAMILIES[family]
    t_dir, s_dir = tmp_path / 'teacher', tmp_path / 'student'
    _check(subprocess.run([sys.executable, 'tools/train.py', teacher_cfg, '--work-dir', str(t_dir), '--cfg-options',
                           *_options(data, 2)], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600))
    t_ckpt = t_dir / 'iter_2.pth'
    assert t_ckpt.exists()

    log = _check(subprocess.run(
        ['bash', 'tools/dist_train.sh', student_cfg, '2', '--work-dir', str(s_dir), '--cfg-options',
         *_options(data, 2), f'model.teacher_ckpt={t_ckpt}'],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600))
    assert re.search(r'world_size:\s*2|Distributed training: True', log), log[-3000:]
    for term in ld_terms:  # each distillation term under its own key, finite
        values = re.findall(rf'\b{term}: (\S+)', log)
        assert values and all(v not in ('nan', 'inf') for v in values), (term, log[-3000:])

    ckpt = safe_torch_load(str(s_dir / 'iter_2.pth'))
    keys = list(ckpt['state_dict'])
    assert keys and not [k for k in keys if 'teacher' in k]
    teacher_keys = set(safe_torch_load(str(t_ckpt))['state_dict'])
    if 'r34' in teacher_cfg:  # a deeper teacher: its extra blocks must not leak into the student
        assert not {k for k in teacher_keys if k.startswith('backbone.layer')} <= set(keys)
    assert ckpt['meta'].get('angle_version') in ('oc', 'le90')

    out = _check(subprocess.run([sys.executable, 'tools/test.py', student_cfg, str(s_dir / 'iter_2.pth'),
                                 '--work-dir', str(tmp_path / 'test'), '--cfg-options', *_options(data, 2),
                                 f'model.teacher_ckpt={t_ckpt}'],
                                cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600))
    assert 'dota/mAP' in out and 'merged' in out
