"""Contract test with the data side: scene -> split tool -> DOTADataset + val pipeline -> predictions
equal to the packed ground truth -> DOTAMetric patch level and merged full image both 1.0 (< 5 s CPU)."""
import os

import cv2
import numpy as np
import pytest

from rotated_ld.datasets.dota import DOTA_V1_0
from rotated_ld.evaluation import DOTAMetric
from rotated_ld.evaluation.functional import rbox2poly_np

from .test_merge import make_scene


@pytest.fixture(scope='module')
def split_scene(tmp_path_factory):
    from rotated_ld.datasets.split.img_split import SplitConfig, split_image

    root = tmp_path_factory.mktemp('dota')
    rng = np.random.default_rng(4)
    boxes, labels = make_scene(rng, size=900, n=30)
    (root / 'img').mkdir()
    (root / 'labelTxt').mkdir()
    cv2.imwrite(str(root / 'img' / 'P0100.png'), np.zeros((900, 900, 3), np.uint8))
    with open(root / 'labelTxt' / 'P0100.txt', 'w') as f:
        for i, (p, lab) in enumerate(zip(rbox2poly_np(boxes), labels)):
            f.write(' '.join(f'{v:.3f}' for v in p) + f' {DOTA_V1_0[lab]} {int(i % 10 == 0)}\n')  # some difficult
    out = root / 'split'
    for d in ('images', 'annfiles', '.split_done'):
        (out / d).mkdir(parents=True)
    split_image(str(root / 'img' / 'P0100.png'), str(root / 'labelTxt' / 'P0100.txt'), str(out),
                SplitConfig(sizes=(512,), gaps=(128,)))
    return root


def _samples(root):
    from rotated_ld.registry import DATASETS

    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(256, 256), keep_ratio=True),
        dict(type='LoadAnnotations', with_bbox=True, box_type='qbox'),
        dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='rbox'), angle_version='le90'),
        dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
    ]
    ds = DATASETS.build(dict(type='DOTADataset', data_root=str(root / 'split'), ann_file='annfiles/',
                             data_prefix=dict(img_path='images/'), diff_thr=0, test_mode=True, pipeline=pipeline))
    samples = []
    for i in range(len(ds)):
        s = ds[i]['data_samples']
        gt = s.gt_instances
        ign = s.ignored_instances
        # "perfect detector": every object of the patch (also ignored ones) with score 1
        s.pred_instances = gt.new(bboxes=np.concatenate([gt.bboxes.numpy(), ign.bboxes.numpy()]),
                                  scores=np.ones(len(gt) + len(ign)),
                                  labels=np.concatenate([gt.labels.numpy(), ign.labels.numpy()]))
        samples.append(s.to_dict())
    return ds, samples


def test_patch_level_and_merged_full_image(split_scene):
    ds, samples = _samples(split_scene)
    assert len(samples) == 9 and isinstance(samples[0]['img_id'], str)
    m = DOTAMetric()
    m.dataset_meta = ds.metainfo
    m.process({}, samples)
    assert m.evaluate(len(samples))['dota/mAP'] == 1.0
    m = DOTAMetric(merge_patches=True, gt_dir=str(split_scene / 'labelTxt'))
    m.dataset_meta = ds.metainfo
    m.process({}, samples)
    out = m.evaluate(len(samples))
    assert out['dota/mAP'] == 1.0 and out['dota/mAP_50_95'] > 0.99
    assert os.path.isdir(split_scene / 'split' / 'images')
