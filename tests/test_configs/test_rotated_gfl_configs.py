"""Every shipped rotated GFL / rotated LD config builds and runs one training step on a tiny input (CPU).

A representative set runs by default (``DEFAULT``); the others are ``slow``. Teachers are built
from their configs with random weights (``teacher_ckpt=None``). Also checks that each config's angle
version is the same in the pipelines and the head, and that LD teachers match their students.
"""
import glob
import os.path as osp
import warnings

import pytest
import torch
from mmengine.config import Config

from rotated_ld.registry import MODELS
from rotated_ld.structures import DetDataSample
from rotated_ld.structures.bbox.rbox import regularize_rboxes

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs/rotated_gfl/*.py'))
                 + glob.glob(osp.join(ROOT, 'configs/rotated_ld/*.py')))


# run by default (one per head type / angle version); every other config is marked slow — the R-50
# teachers of the LD configs alone take ~20 s of CPU per step on 2 shared cores
DEFAULT = {'rotated_gfl_r18_fpn_1x_dota_le90.py', 'rotated_gfl_r18_fpn_1x_dota_oc.py',
           'rotated_gfl-plainangle_r18_fpn_1x_dota_le90.py', 'rotated_ld_r18-rgfl-r50_fpn_1x_dota_le90.py'}


def _params():
    out = []
    for p in CONFIGS:
        name = osp.basename(p)
        light = name in DEFAULT
        marks = () if light else (pytest.mark.slow,)
        out.append(pytest.param(p, marks=marks, id=name[:-3]))
    return out


def _sample(angle_version):
    box = regularize_rboxes(torch.tensor([[30.0, 34.0, 44.0, 24.0, 0.5]]), angle_version)
    s = DetDataSample(metainfo=dict(img_shape=(64, 64), ori_shape=(64, 64), pad_shape=(64, 64),
                                    scale_factor=(1.0, 1.0)))
    from mmengine.structures import InstanceData
    s.gt_instances = InstanceData(bboxes=box, labels=torch.tensor([1]))
    return s


def _angle_versions_in_pipelines(cfg):
    found = set()
    for loader in ('train_dataloader', 'val_dataloader'):
        for t in cfg[loader]['dataset'].get('pipeline', []):
            if 'angle_version' in t:
                found.add(t['angle_version'])
    return found


def test_config_list_is_complete():
    names = {osp.basename(p) for p in CONFIGS}
    for d in (18, 34, 50, 101):
        assert f'rotated_gfl_r{d}_fpn_1x_dota_le90.py' in names
    for must in ('rotated_ld_r18-rgfl-r50_fpn_1x_dota_le90.py', 'rotated_ld_r34-rgfl-r101_fpn_1x_dota_le90.py',
                 'rotated_ld_r50-rgfl-r101_fpn_1x_dota_le90.py', 'self-ld_r50-rgfl-r50_fpn_1x_dota_le90.py',
                 'rotated_ld-edges_r18-rgfl-r50_fpn_1x_dota_le90.py',
                 'rotated_ld-angle_r18-rgfl-r50_fpn_1x_dota_le90.py',
                 'rotated_gfl_r50_fpn_1x_dota_oc.py', 'rotated_gfl_r50_fpn_1x_dota_le135.py',
                 'rotated_gfl-plainangle_r50_fpn_1x_dota_le90.py',
                 'rotated_ld_r18-rgfl-r50_fpn_1x_dota-ms_le90.py',
                 'rotated_ld_r18-rgfl-r50_fpn_1x_dota-v1.5_le90.py',
                 'rotated_ld_r18-rgfl-r50_fpn_1x_dota-v2.0_le90.py'):
        assert must in names, must


@pytest.mark.parametrize('path', _params())
def test_config_builds_and_steps(path):
    cfg = Config.fromfile(path)
    version = cfg.model.bbox_head.angle_version
    assert _angle_versions_in_pipelines(cfg) == {version}, 'pipelines and head disagree on angle_version'
    assert osp.basename(path)[:-3].endswith(version)
    model_cfg = cfg.model.to_dict() if hasattr(cfg.model, 'to_dict') else dict(cfg.model)
    if model_cfg['type'] == 'KDSingleStageDetector':
        model_cfg['teacher_ckpt'] = None
        teacher = Config.fromfile(model_cfg['teacher_config'])
        assert teacher.model.bbox_head.angle_version == version
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model = MODELS.build(model_cfg)
    model.train()
    data = dict(inputs=[torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)], data_samples=[_sample(version)])
    data = model.data_preprocessor(data, True)
    losses = model(**data, mode='loss')
    total, log_vars = model.parse_losses(losses)
    assert torch.isfinite(total)
    for k, v in losses.items():
        assert torch.isfinite(v).all(), k
    if model_cfg['type'] == 'KDSingleStageDetector':
        assert 'loss_kd' in losses
        head = model_cfg['bbox_head']
        assert ('loss_ld_angle' in losses) == (head.get('distill_angle', True) is not False)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    opt.zero_grad()
    total.backward()
    opt.step()
