"""The LD repo's `tools/test.py CONFIG CKPT --eval bbox|mAP` on a real GFL checkpoint (synthetic COCO set).

Trains the slim GFL config one short epoch through tools/train.py, then tests it with both flags
(CPU, ~1 min): plumbing of the metrics selection, not accuracy."""
import os
import os.path as osp
import subprocess
import sys

import pytest

from rotated_ld.datasets.synthetic import write_coco_set

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
CONFIG = osp.join(ROOT, 'configs/gfl/gfl_r18-slim_fpn_synthetic_coco.py')


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('evalflags')
    write_coco_set(str(tmp / 'coco'), {'train2017': 4, 'val2017': 3}, seed=3)
    opts = [f'train_dataloader.dataset.data_root={tmp}/coco/', f'val_dataloader.dataset.data_root={tmp}/coco/',
            f'test_dataloader.dataset.data_root={tmp}/coco/',
            f'val_evaluator.ann_file={tmp}/coco/annotations/instances_val2017.json',
            f'test_evaluator.ann_file={tmp}/coco/annotations/instances_val2017.json']
    r = subprocess.run([sys.executable, 'tools/train.py', CONFIG, '--work-dir', str(tmp / 'wd'), '--cfg-options',
                        'train_cfg.max_epochs=1', 'train_cfg.val_interval=10', *opts], cwd=ROOT,
                       capture_output=True, text=True, timeout=600, env=dict(os.environ))
    assert r.returncode == 0, r.stderr[-3000:]
    return tmp, opts


@pytest.mark.parametrize('flag,expect', [('bbox', 'coco/bbox_mAP'), ('mAP', 'pascal_voc/mAP')])
def test_eval_flag_selects_metric(trained, flag, expect):
    tmp, opts = trained
    r = subprocess.run([sys.executable, 'tools/test.py', CONFIG, str(tmp / 'wd' / 'epoch_1.pth'), '--work-dir',
                        str(tmp / f'test_{flag}'), '--eval', flag, '--cfg-options', *opts], cwd=ROOT,
                       capture_output=True, text=True, timeout=600, env=dict(os.environ))
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout + r.stderr
    assert expect in out
    if flag == 'mAP':  # the per-class table of the LD README's VOC output
        assert '| class' in out and 'recall' in out
