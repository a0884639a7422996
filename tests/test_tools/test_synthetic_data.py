"""Synthetic data generators (DOTA scenes, COCO / VOC sets) and the end-to-end path
synthetic scenes -> split tool -> DOTADataset built from configs/_base_/datasets/synthetic_dota.py."""
import importlib.util
import json
import os
import os.path as osp
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch
from mmengine.config import Config

from rotated_ld.datasets import DOTA_V1_0
from rotated_ld.datasets.dota_txt import parse_dota_txt
from rotated_ld.datasets.synthetic import CLASS_SPECS, make_scene, write_coco_set, write_voc_set
from rotated_ld.registry import DATASETS
from rotated_ld.structures.bbox import poly_area

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def _cli(rel):
    spec = importlib.util.spec_from_file_location(osp.basename(rel)[:-3], osp.join(REPO, rel))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope='module')
def dota_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('syn')
    _cli('tools/data/synthetic/make_dota_scenes.py').main(
        ['--out', str(root), '--splits', 'train:5', 'val:2', '--size', '1300', '1700', '--seed', '5'])
    return root


def test_scene_is_deterministic_per_seed():
    a = make_scene(np.random.default_rng([5, 0]), 600, 500)
    b = make_scene(np.random.default_rng([5, 0]), 600, 500)
    c = make_scene(np.random.default_rng([6, 0]), 600, 500)
    assert a.img.shape == (500, 600, 3) and a.img.dtype == np.uint8
    np.testing.assert_array_equal(a.img, b.img)
    assert [(o.cls, o.difficult) for o in a.objects] == [(o.cls, o.difficult) for o in b.objects]
    assert not np.array_equal(a.img, c.img)


def test_dota_scenes_layout_and_content(dota_root):
    train = dota_root / 'train'
    names = sorted(os.listdir(train / 'images'))
    assert names == [f'P{i:04d}.png' for i in range(5)]
    assert sorted(os.listdir(dota_root / 'val' / 'images')) == ['P0005.png', 'P0006.png']  # splits never share
    classes, diffs, border, n = set(), [], 0, 0
    for f in names:
        txt = (train / 'labelTxt' / f.replace('.png', '.txt')).read_text().splitlines()
        assert txt[0] == 'imagesource:GoogleEarth' and txt[1].startswith('gsd:')
        ann = parse_dota_txt(str(train / 'labelTxt' / f.replace('.png', '.txt')), classes=DOTA_V1_0)  # strict
        import cv2
        h, w = cv2.imread(str(train / 'images' / f)).shape[:2]
        assert 1300 <= h <= 1700 and 1300 <= w <= 1700
        xs, ys = ann.polys[:, 0::2], ann.polys[:, 1::2]
        assert (xs >= 0).all() and (xs <= w).all() and (ys >= 0).all() and (ys <= h).all()
        border += int(((xs.min(1) < 1) | (ys.min(1) < 1) | (xs.max(1) > w - 1) | (ys.max(1) > h - 1)).sum())
        classes |= set(ann.labels)
        diffs += ann.difficulties.tolist()
        n += len(ann.labels)
        for p, c in zip(ann.polys, ann.labels):  # class-typical sizes (border-cut objects are smaller)
            side = max(np.hypot(p[2] - p[0], p[3] - p[1]), np.hypot(p[4] - p[2], p[5] - p[3]))
            assert side <= CLASS_SPECS[c][0][1] * 1.05 + 1, (c, side)
            assert poly_area(p) > 20
    assert n > 150, n
    assert len(classes) >= 13, sorted(set(DOTA_V1_0) - classes)
    assert border > 0 and 0 < sum(d == 1 for d in diffs) < 0.2 * n


def test_all_15_classes_over_a_small_set(dota_root):
    seen = set()
    for split in ('train', 'val'):
        for f in os.listdir(dota_root / split / 'labelTxt'):
            seen |= set(parse_dota_txt(str(dota_root / split / 'labelTxt' / f), classes=DOTA_V1_0).labels)
    assert seen == set(DOTA_V1_0), sorted(set(DOTA_V1_0) - seen)


def test_hbox_sets(tmp_path):
    _cli('tools/data/synthetic/make_hbox_sets.py').main(['--out', str(tmp_path), '--num-train', '5',
                                                         '--num-val', '2', '--size', '200', '240'])
    coco = json.load(open(tmp_path / 'coco/annotations/instances_train2017.json'))
    assert len(coco['images']) == 5 and len(coco['categories']) == 8 and len(coco['annotations']) > 5
    for a in coco['annotations']:
        x, y, w, h = a['bbox']
        img = coco['images'][a['image_id'] - 1]
        assert w > 4 and h > 4 and x >= 0 and y >= 0 and x + w <= img['width'] + 1e-6
    assert os.path.isfile(tmp_path / 'coco/train2017' / coco['images'][0]['file_name'])
    main = tmp_path / 'VOCdevkit/VOC2007/ImageSets/Main'
    ids = {s: (main / f'{s}.txt').read_text().split() for s in ('train', 'val', 'trainval', 'test')}
    assert ids['trainval'] == ids['train'] + ids['val'] and len(ids['test']) == 2
    root = ET.parse(tmp_path / 'VOCdevkit/VOC2007/Annotations' / f"{ids['train'][0]}.xml").getroot()
    assert root.find('size/width') is not None and len(root.findall('object')) > 0
    # deterministic per seed
    write_coco_set(str(tmp_path / 'again'), {'train2017': 5}, (200, 240), seed=0)
    assert json.load(open(tmp_path / 'again/annotations/instances_train2017.json'))['annotations'] == \
        coco['annotations']
    write_voc_set(str(tmp_path / 'v12'), {'trainval': 2}, (200, 240), seed=0, year='VOC2012')
    assert (tmp_path / 'v12/VOCdevkit/VOC2012/ImageSets/Main/trainval.txt').exists()


def test_end_to_end_synthetic_split_dataset(dota_root, tmp_path):
    split = _cli('tools/data/dota/split/img_split.py')
    base = json.load(open(osp.join(REPO, 'tools/data/dota/split/split_configs/synthetic_train.json')))
    assert base['sizes'] == [512] and base['gaps'] == [200]
    # the 2 val scenes serve as both splits here (keeps the test to seconds)
    cfg = dict(base, img_dirs=[str(dota_root / 'val' / 'images')], ann_dirs=[str(dota_root / 'val' / 'labelTxt')],
               save_dir=str(tmp_path / 'split' / 'val'), nproc=1)
    (tmp_path / 'val.json').write_text(json.dumps(cfg))
    stats = split.main(['--base-json', str(tmp_path / 'val.json'), '--no-progress'])
    assert stats.lost == 0 and stats.patches > 0
    os.symlink(tmp_path / 'split' / 'val', tmp_path / 'split' / 'train')
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/datasets/synthetic_dota.py'))
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.data_root = str(tmp_path / 'split') + '/'
        assert cfg[key].collate_fn.type == 'pseudo_collate'
    train = DATASETS.build(cfg.train_dataloader.dataset)
    assert train.metainfo['classes'] == DOTA_V1_0
    n_obj = sum(len(train.get_data_info(i)['instances']) for i in range(len(train)))
    assert n_obj >= stats.objects_out > 0
    torch.manual_seed(0)
    sample = train[0]
    assert sample['inputs'].shape == (3, 384, 384) and sample['inputs'].dtype == torch.uint8
    gt = sample['data_samples'].gt_instances
    assert gt.bboxes.shape[1] == 5 and len(gt) > 0
    assert (gt.bboxes[:, 2] >= gt.bboxes[:, 3] - 1e-4).all()  # le90
    assert sample['data_samples'].metainfo['scale_factor'] == (0.75, 0.75)
    val = DATASETS.build(cfg.val_dataloader.dataset)
    s = val[0]['data_samples']
    assert 'gt_instances' in s and s.metainfo['ori_shape'] == (512, 512)
    test = DATASETS.build(cfg.test_dataloader.dataset)
    assert len(test) == len(os.listdir(tmp_path / 'split' / 'val' / 'images'))
    assert 'gt_instances' not in test[0]['data_samples']
