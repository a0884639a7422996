"""Every dataset base config parses, its datasets and pipelines build (lazily, no data needed), and the
synthetic COCO / VOC configs load real generated data through their pipelines."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from rotated_ld.datasets.synthetic import HBOX_CLASSES, write_coco_set, write_voc_set
from rotated_ld.registry import DATASETS

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs/_base_/datasets/*.py')))


def _lazy(cfg):
    cfg = cfg.copy()
    if 'dataset' in cfg:
        cfg['dataset'] = _lazy(cfg['dataset'])
    if 'datasets' in cfg:
        cfg['datasets'] = [_lazy(c) for c in cfg['datasets']]
    cfg['lazy_init'] = True
    return cfg


@pytest.mark.parametrize('path', CONFIGS, ids=[osp.basename(p) for p in CONFIGS])
def test_dataset_config_builds(path):
    cfg = Config.fromfile(path)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dl = cfg[key]
        assert dl.collate_fn.type == 'pseudo_collate'
        assert dl.num_workers > 0 or not dl.get('persistent_workers', False)
        ds = DATASETS.build(_lazy(dl.dataset))
        assert ds is not None
    assert cfg.val_evaluator.type in ('DOTAMetric', 'CocoMetric', 'VOCMetric')
    if 'dota' in osp.basename(path):  # the model config owns the top-level angle_version
        convert = [t for t in cfg.train_pipeline if t['type'] == 'ConvertBoxType']
        assert len(convert) == 1 and convert[0]['angle_version'] in ('oc', 'le90', 'le135')


def test_synthetic_hbox_configs_load(tmp_path):
    write_coco_set(str(tmp_path / 'coco'), {'train2017': 3, 'val2017': 2}, (200, 240), seed=0)
    write_voc_set(str(tmp_path), {'train': 2, 'val': 1, 'test': 2}, (200, 240), seed=0)
    coco = Config.fromfile(osp.join(REPO, 'configs/_base_/datasets/synthetic_coco.py'))
    assert tuple(coco.metainfo['classes']) == HBOX_CLASSES
    ds = coco.train_dataloader.dataset
    ds.data_root = str(tmp_path / 'coco') + '/'
    out = DATASETS.build(ds)[0]
    assert out['inputs'].shape[0] == 3 and max(out['inputs'].shape[1:]) == 416
    assert out['data_samples'].gt_instances.bboxes.shape[1] == 4
    voc = Config.fromfile(osp.join(REPO, 'configs/_base_/datasets/synthetic_voc.py'))
    for key in ('train_dataloader', 'val_dataloader'):
        ds = voc[key].dataset
        ds.data_root = str(tmp_path / 'VOCdevkit') + '/'
        built = DATASETS.build(ds)
        s = built[0]
        assert isinstance(s['inputs'], torch.Tensor) and built.metainfo['dataset_type'] == 'VOC2007'
    assert len(built) == 2  # VOC2007 test split
