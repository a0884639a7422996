"""The ATSS and FCOS LD students train: the slim synthetic configs, teacher trained first on the same
batch, then the student; the total loss falls and the LD terms are in the logged variables (the dict
the runner logs, ``BaseModel.parse_losses``); and the ATSS pair through tools/train.py. Slow (1.5 min each on
1 CPU thread; measured: ATSS student loss 4.92 -> 1.19 over 30 steps, FCOS 4.60 -> 1.12)."""
import os.path as osp
import warnings

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import set_random_seed
from mmengine.structures import InstanceData

from rotated_ld.registry import MODELS
from rotated_ld.structures import DetDataSample

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
SIZE = 128


def _batch():
    """Two images with bright rectangles on noise (the GTs), uint8 CHW."""
    g = torch.Generator().manual_seed(0)
    boxes = [torch.tensor([[10., 14., 60., 50.], [70., 60., 120., 118.]]),
             torch.tensor([[30., 20., 100., 70.], [8., 80., 40., 120.]])]
    inputs, samples = [], []
    for i, bb in enumerate(boxes):
        img = torch.randint(0, 60, (3, SIZE, SIZE), generator=g, dtype=torch.uint8)
        for k, (x1, y1, x2, y2) in enumerate(bb.long().tolist()):
            img[k % 3, y1:y2, x1:x2] = 220
        inputs.append(img)
        s = DetDataSample(metainfo=dict(img_id=i, img_shape=(SIZE, SIZE), ori_shape=(SIZE, SIZE),
                                        scale_factor=(1.0, 1.0)))
        s.gt_instances = InstanceData(bboxes=bb, labels=torch.tensor([1, 3]))
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def _train(model, steps):
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    logs = []
    for _ in range(steps):
        data = model.data_preprocessor(_batch(), training=True)
        loss, log_vars = model.parse_losses(model(**data, mode='loss'))
        opt.zero_grad()
        loss.backward()
        opt.step()
        logs.append(log_vars)
    return logs


@pytest.mark.slow
@pytest.mark.parametrize('kind', ['atss', 'fcos'])
def test_synthetic_ld_student_trains(kind):
    torch.set_num_threads(1)
    set_random_seed(0)
    path = osp.join(ROOT, 'configs', 'ld', f'ld_r18-slim-{kind}-gfl-r18-slim_fpn_synthetic_coco.py')
    cfg = Config.fromfile(path)
    teacher = MODELS.build(Config.fromfile(cfg.model.teacher_config).model)
    teacher.init_weights()
    teacher.train()
    t_logs = _train(teacher, 20)
    assert 'loss_centerness' in t_logs[0] and 'loss_dfl' not in t_logs[0]
    cfg.model.teacher_ckpt = None
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model = MODELS.build(cfg.model)
    model.init_weights()
    model.teacher.load_state_dict(teacher.state_dict())
    model.train()
    logs = _train(model, 30)
    for key in ('loss_ld', 'loss_ld_neg', 'loss_kd', 'loss_centerness', 'loss_bbox', 'loss_cls'):
        assert all(key in log for log in logs), key
    assert any(log['loss_ld'] > 0 for log in logs) and any(log['loss_ld_neg'] > 0 for log in logs)
    first = sum(log['loss'] for log in logs[:5]) / 5
    last = sum(log['loss'] for log in logs[-5:]) / 5
    assert last < 0.8 * first, (first, last)


@pytest.mark.slow
def test_atss_ld_through_the_train_tool(tmp_path):
    """tools/train.py as a user runs it (synthetic COCO set, teacher 1 epoch, then the LD student 1 epoch):
    both finish and the student's logged scalars carry loss_ld, loss_ld_neg and loss_kd every iteration."""
    import json
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1')
    data = tmp_path / 'data'
    subprocess.run([sys.executable, 'tools/data/synthetic/make_hbox_sets.py', '--out', str(data), '--layout', 'coco',
                    '--num-train', '8', '--num-val', '2', '--size', '200', '240'], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=300)
    root = f'{data}/coco/'
    ann = f'{root}annotations/instances_val2017.json'
    opts = [f'{k}_dataloader.dataset.data_root={root}' for k in ('train', 'val', 'test')] + [
        f'val_evaluator.ann_file={ann}', f'test_evaluator.ann_file={ann}', 'train_cfg.max_epochs=1',
        'train_dataloader.batch_size=2', 'default_hooks.logger.interval=1', 'default_hooks.checkpoint.interval=1']

    def train(cfg, work, *extra):
        r = subprocess.run([sys.executable, 'tools/train.py', cfg, '--work-dir', str(work), '--cfg-options',
                            *opts, *extra], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, r.stderr[-3000:]

    train('configs/gfl/atss-gfl_r18-slim_fpn_synthetic_coco.py', tmp_path / 't')
    train('configs/ld/ld_r18-slim-atss-gfl-r18-slim_fpn_synthetic_coco.py', tmp_path / 's',
          f"model.teacher_ckpt={tmp_path / 't' / 'epoch_1.pth'}")
    [run] = [d for d in os.listdir(tmp_path / 's') if (tmp_path / 's' / d / 'vis_data').is_dir()]
    with open(tmp_path / 's' / run / 'vis_data' / 'scalars.json') as f:
        rows = [json.loads(line) for line in f if '"loss"' in line]
    assert len(rows) == 4
    assert all({'loss_ld', 'loss_ld_neg', 'loss_kd', 'loss_centerness'} <= set(r) for r in rows)
