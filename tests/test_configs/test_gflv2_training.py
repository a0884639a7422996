"""The slim synthetic GFLv2 teacher and its LD GFLv2 student train with ``tools/train.py`` on a tiny
synthetic COCO set: the loss falls in both runs and the student's log carries the LD terms
(``loss_ld``, ``loss_ld_vlr``, ``loss_kd``) from the GFLv2 teacher's checkpoint. Slow: ~7 min on a
shared 2-core machine (two 32-iteration runs, the second with a teacher)."""
import glob
import json
import math
import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TEACHER = 'configs/gfl/gflv2_r18-slim_fpn_synthetic_coco.py'
STUDENT = 'configs/ld/ld-vlr-kd_r18-slim-gflv2-r18-slim_fpn_synthetic_coco.py'
EPOCHS = 8  # 4 iterations each (8 images, batch 2)


def _train(config, work_dir, data_root, extra=()):
    opts = [f'train_dataloader.dataset.data_root={data_root}/', f'val_dataloader.dataset.data_root={data_root}/',
            f'test_dataloader.dataset.data_root={data_root}/',
            f'val_evaluator.ann_file={data_root}/annotations/instances_val2017.json',
            f'test_evaluator.ann_file={data_root}/annotations/instances_val2017.json',
            'train_dataloader.batch_size=2', 'train_dataloader.dataset.pipeline.2.scale=(160,160)',
            'val_dataloader.dataset.pipeline.1.scale=(160,160)', 'test_dataloader.dataset.pipeline.1.scale=(160,160)',
            f'train_cfg.max_epochs={EPOCHS}', f'train_cfg.val_interval={EPOCHS}',
            f'default_hooks.checkpoint.interval={EPOCHS}', 'default_hooks.logger.interval=1',
            'log_processor.window_size=1', 'randomness.seed=0',
            'param_scheduler.0.end=4',  # the config warms up over 30 iterations: longer than this run
            *extra]
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=ROOT)
    r = subprocess.run([sys.executable, 'tools/train.py', config, '--work-dir', str(work_dir), '--cfg-options',
                        *opts], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, (r.stdout + r.stderr)[-5000:]
    scalars = sorted(glob.glob(osp.join(str(work_dir), '*', 'vis_data', 'scalars.json')))[-1]
    with open(scalars) as f:
        rows = [json.loads(line) for line in f]
    return [r for r in rows if 'loss' in r]  # training iterations (per iteration: window_size=1)


def _falls(rows, key='loss', n=6):
    """Mean of the last ``n`` iterations clearly below the mean of the first ``n``."""
    values = [r[key] for r in rows]
    assert all(math.isfinite(v) for v in values), values
    first, last = sum(values[:n]) / n, sum(values[-n:]) / n
    print(key, [round(v, 3) for v in values])
    assert last < 0.85 * first, values


@pytest.mark.slow
def test_gflv2_teacher_and_ld_gflv2_student_train(tmp_path):
    from rotated_ld.datasets.synthetic import write_coco_set
    data_root = str(tmp_path / 'coco')
    write_coco_set(data_root, {'train2017': 8, 'val2017': 2}, (160, 192), seed=3)

    teacher_rows = _train(TEACHER, tmp_path / 'teacher', data_root)
    assert len(teacher_rows) == EPOCHS * 4
    _falls(teacher_rows)
    assert not any('loss_ld' in r for r in teacher_rows)
    ckpt = tmp_path / 'teacher' / f'epoch_{EPOCHS}.pth'
    assert ckpt.is_file()

    student_rows = _train(STUDENT, tmp_path / 'student', data_root, [f'model.teacher_ckpt={ckpt}'])
    _falls(student_rows)
    for key in ('loss_ld', 'loss_ld_vlr', 'loss_kd'):
        assert all(key in r and math.isfinite(r[key]) for r in student_rows), key
    assert all(r['loss_ld'] > 0 and r['loss_kd'] > 0 for r in student_rows)
