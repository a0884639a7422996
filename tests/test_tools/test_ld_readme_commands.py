"""Every command line of the LD repository's README, run as written (its config names, its work-dir
paths), with 2 CPU processes instead of 8 GPUs and a few iterations on synthetic COCO / VOC sets.

The commands run from a scratch directory laid out as the LD README assumes: ``tools`` and ``configs``
of this checkout, ``data/coco`` and ``data/VOCdevkit`` (synthetic images whose labels carry COCO / VOC
class names, with all 80 / 20 categories declared) and the teachers' local checkpoints under
``data/teachers/`` (random weights: plumbing, not accuracy). The appended ``--cfg-options`` only shrink
the budget, and they are written the mmdet-2 way the README's users write them (``data.workers_per_gpu``,
``total_epochs``, ``evaluation.interval``, ``log_config.interval``), so the run also shows that those
keys are translated. Checks: each command exits 0, prints the project's name of the config, trains
in 2 processes with the LD loss logged, and the test / benchmark commands report their metric.
Slow: about 19 minutes on a shared 2-core machine (six commands, each starting 2 processes that build an
R-101 teacher).
"""
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import free_port

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
SCALE = '(160,128)'
BUDGET = ['data.workers_per_gpu=0', 'model.backbone.init_cfg=None']
TRAIN_BUDGET = BUDGET + ['total_epochs=1', 'evaluation.interval=2', 'log_config.interval=1']
COCO_TRAIN = TRAIN_BUDGET + [f'train_dataloader.dataset.pipeline.2.scale={SCALE}']
COCO_TEST = BUDGET + [f'test_dataloader.dataset.pipeline.1.scale={SCALE}']
VOC_TRAIN = TRAIN_BUDGET + [f'train_dataloader.dataset.dataset.datasets.{i}.pipeline.2.scale={SCALE}'
                            for i in (0, 1)]
VOC_TEST = COCO_TEST


def _teacher_ckpt(config: str, out: str) -> None:
    """A local teacher checkpoint of ``config`` (random weights, the layout tools/train.py writes)."""
    import torch

    import rotated_ld.models  # noqa: F401  (registers)
    from rotated_ld.registry import MODELS
    from rotated_ld.utils.setup_env import load_config

    cfg = load_config(osp.join(ROOT, config), ['model.backbone.init_cfg=None'])
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    os.makedirs(osp.dirname(out), exist_ok=True)
    torch.save({'state_dict': model.state_dict(), 'meta': {'box_type': 'hbox'}}, out)


def _coco(work):
    from rotated_ld.datasets.coco import CocoDataset
    from rotated_ld.datasets.synthetic import write_coco_set

    paths = write_coco_set(str(work / 'data' / 'coco'), {'train2017': 4, 'val2017': 4}, (224, 256), seed=1)
    names = CocoDataset.METAINFO['classes']
    for path in paths.values():  # the 8 synthetic classes become COCO's first 8; all 80 declared
        with open(path) as f:
            ann = json.load(f)
        ann['categories'] = [dict(id=i + 1, name=n, supercategory='object') for i, n in enumerate(names)]
        with open(path, 'w') as f:
            json.dump(ann, f)


def _voc(work):
    from rotated_ld.datasets.synthetic import write_voc_set
    from rotated_ld.datasets.synthetic.hbox import HBOX_CLASSES
    from rotated_ld.datasets.voc import VOCDataset

    names = VOCDataset.METAINFO['classes']
    for year, splits in (('VOC2007', {'trainval': 2, 'test': 4}), ('VOC2012', {'trainval': 2})):
        root = write_voc_set(str(work / 'data'), splits, (224, 256), seed=2, year=year)
        for xml in os.listdir(osp.join(root, 'Annotations')):
            path = osp.join(root, 'Annotations', xml)
            with open(path) as f:
                text = f.read()
            for ours, voc in zip(HBOX_CLASSES, names):
                text = text.replace(f'<name>{ours}</name>', f'<name>{voc}</name>')
            with open(path, 'w') as f:
                f.write(text)


@pytest.fixture(scope='module')
def workspace(tmp_path_factory):
    work = tmp_path_factory.mktemp('ld_readme')
    os.symlink(osp.join(ROOT, 'tools'), work / 'tools')
    os.symlink(osp.join(ROOT, 'configs'), work / 'configs')
    _coco(work)
    _voc(work)
    _teacher_ckpt('configs/gfl/gfl_r101_fpn_ms-2x_coco.py', str(work / 'data/teachers/gfl_r101_fpn_ms-2x_coco.pth'))
    _teacher_ckpt('configs/gfl/gfl_r101_fpn_16e_voc.py', str(work / 'data/teachers/gfl_r101_fpn_16e_voc.pth'))
    return work


def _run(work, line: str, options: list[str]):
    """One README line (a shell command) with ``--cfg-options`` appended; returns stdout + stderr."""
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1',
               PORT=str(free_port()), PYTHONPATH=ROOT)  # xdist workers / other checkouts run at the same time
    cmd = line.replace('python3 ', f'{sys.executable} ') + ' --cfg-options ' + ' '.join(f"'{o}'" for o in options)
    r = subprocess.run(['bash', '-c', cmd], cwd=work, env=env, capture_output=True, text=True, timeout=900)
    log = r.stdout + r.stderr
    assert r.returncode == 0, f'{line}\n' + log[-5000:]
    assert 'Traceback' not in log, log[-5000:]
    return log


def _trained_in_two_processes_with_ld(log):
    assert re.search(r'world_size:\s*2|Distributed training: True', log), log[-3000:]
    values = re.findall(r'\bloss_ld: (\S+)', log)
    assert values and all(v not in ('nan', 'inf') for v in values), log[-3000:]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != 'linux' or shutil.which('bash') is None, reason='bash launchers')
def test_ld_readme_command_lines(workspace):
    work = workspace
    ours_coco = 'this project calls it configs/ld/ld_r50-gfl-r101_fpn_1x_coco.py'

    # Train (both README versions' names: ld_r50_gflv1_r101_fpn_coco_1x and ld_gflv1_r101_r50_fpn_coco_1x)
    log = _run(work, './tools/dist_train.sh configs/ld/ld_r50_gflv1_r101_fpn_coco_1x.py 2', COCO_TRAIN)
    _trained_in_two_processes_with_ld(log)
    assert ours_coco in log and 'train_dataloader.num_workers=0' in log and 'train_cfg.max_epochs=1' in log
    assert re.search(r'\bloss_kd: \S+', log)  # that file's Main KD (weight 5)
    log = _run(work, './tools/dist_train.sh configs/ld/ld_gflv1_r101_r50_fpn_coco_1x.py 2', COCO_TRAIN)
    _trained_in_two_processes_with_ld(log)
    assert ours_coco in log
    ckpt = work / 'work_dirs' / 'ld_gflv1_r101_r50_fpn_coco_1x' / 'epoch_1.pth'
    assert ckpt.is_file()
    # the README's checkpoint path is the last epoch of the full schedule
    shutil.copy(ckpt, ckpt.parent / 'epoch_24.pth')

    # COCO evaluation
    log = _run(work, './tools/dist_test.sh configs/ld/ld_gflv1_r101_r50_fpn_coco_1x.py '
                     'work_dirs/ld_gflv1_r101_r50_fpn_coco_1x/epoch_24.pth 2 --eval bbox', COCO_TEST)
    assert ours_coco in log and 'coco/bbox_mAP' in log

    # Speed test (FPS)
    log = _run(work, 'CUDA_VISIBLE_DEVICES=0 python3 ./tools/benchmark.py configs/ld/ld_gflv1_r101_r50_fpn_coco_1x.py '
                     'work_dirs/ld_gflv1_r101_r50_fpn_coco_1x/epoch_24.pth', COCO_TEST)
    assert ours_coco in log and 'Overall fps' in log and 'test set (4 images)' in log

    # VOC evaluation (the README gives no train line for it: train first, then its command)
    log = _run(work, './tools/dist_train.sh configs/ld/ld_gflv1_r101_r18_fpn_voc.py 2', VOC_TRAIN)
    _trained_in_two_processes_with_ld(log)
    ckpt = work / 'work_dirs' / 'ld_gflv1_r101_r18_fpn_voc' / 'epoch_1.pth'
    shutil.copy(ckpt, ckpt.parent / 'epoch_4.pth')
    log = _run(work, './tools/dist_test.sh configs/ld/ld_gflv1_r101_r18_fpn_voc.py '
                     'work_dirs/ld_gflv1_r101_r18_fpn_voc/epoch_4.pth 2 --eval mAP', VOC_TEST)
    assert 'this project calls it configs/ld/ld_r18-gfl-r101_fpn_4e_voc.py' in log
    assert 'pascal_voc/mAP' in log
