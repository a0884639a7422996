"""CocoDataset (iscrowd -> ignore, class selection by name) and VOCDataset (difficult -> ignore,
ImageSets splits, VOC2007 / VOC2012 type) on the synthetic horizontal-box sets."""
import json

import numpy as np
import pytest

from rotated_ld.datasets import CocoDataset, VOCDataset
from rotated_ld.datasets.synthetic import HBOX_CLASSES, write_coco_set, write_voc_set


@pytest.fixture(scope='module')
def hbox_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('hbox')
    write_coco_set(str(root / 'coco'), {'train2017': 6, 'val2017': 3}, (160, 200), seed=1)
    write_voc_set(str(root), {'train': 4, 'val': 2, 'test': 2}, (160, 200), seed=1)
    return root


def test_coco_dataset(hbox_root):
    ds = CocoDataset(data_root=str(hbox_root / 'coco'), ann_file='annotations/instances_train2017.json',
                     data_prefix=dict(img='train2017/'), metainfo=dict(classes=HBOX_CLASSES))
    raw = json.load(open(hbox_root / 'coco/annotations/instances_train2017.json'))
    assert len(ds) == 6 and ds.metainfo['classes'] == HBOX_CLASSES
    n = sum(len(ds[i]['instances']) for i in range(len(ds)))
    assert n == len(raw['annotations'])
    a = raw['annotations'][0]
    inst = [d for d in (ds[i] for i in range(6)) if d['img_id'] == a['image_id']][0]['instances'][0]
    x, y, w, h = a['bbox']
    assert inst['bbox'] == pytest.approx([x, y, x + w, y + h])
    assert inst['bbox_label'] == a['category_id'] - 1 and inst['ignore_flag'] == a['iscrowd']
    crowd = sum(a['iscrowd'] for a in raw['annotations'])
    assert sum(i['ignore_flag'] for d in (ds[k] for k in range(6)) for i in d['instances']) == crowd


def test_coco_class_subset_and_errors(hbox_root):
    ds = CocoDataset(data_root=str(hbox_root / 'coco'), ann_file='annotations/instances_val2017.json',
                     data_prefix=dict(img='val2017/'), metainfo=dict(classes=('ship', 'plane')))
    labels = {i['bbox_label'] for k in range(len(ds)) for i in ds[k]['instances']}
    assert labels <= {0, 1}
    with pytest.raises(KeyError, match='not categories'):
        CocoDataset(data_root=str(hbox_root / 'coco'), ann_file='annotations/instances_val2017.json',
                    data_prefix=dict(img='val2017/'))  # default: the 80 COCO names


def test_voc_dataset(hbox_root):
    root = hbox_root / 'VOCdevkit'
    ds = VOCDataset(data_root=str(root), ann_file='VOC2007/ImageSets/Main/trainval.txt',
                    data_prefix=dict(sub_data_root='VOC2007/'), metainfo=dict(classes=HBOX_CLASSES))
    assert len(ds) == 6 and ds.metainfo['dataset_type'] == 'VOC2007'
    info = ds[0]
    assert info['img_path'].endswith('VOC2007/JPEGImages/000000.jpg') and info['width'] > 0
    boxes = np.array([i['bbox'] for i in info['instances']])
    assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()
    test = VOCDataset(data_root=str(root), ann_file='VOC2007/ImageSets/Main/test.txt',
                      data_prefix=dict(sub_data_root='VOC2007/'), metainfo=dict(classes=HBOX_CLASSES),
                      test_mode=True)
    assert len(test) == 2 and {test[i]['img_id'] for i in range(2)} == {'000006', '000007'}


def test_voc_difficult_is_ignored(tmp_path):
    d = tmp_path / 'VOCdevkit' / 'VOC2012'
    (d / 'Annotations').mkdir(parents=True)
    (d / 'ImageSets' / 'Main').mkdir(parents=True)
    (d / 'ImageSets' / 'Main' / 'val.txt').write_text('2012_000001\n')
    (d / 'Annotations' / '2012_000001.xml').write_text(
        '<annotation><size><width>100</width><height>80</height></size>'
        '<object><name>dog</name><difficult>1</difficult><bndbox><xmin>11</xmin><ymin>21</ymin>'
        '<xmax>50</xmax><ymax>60</ymax></bndbox></object>'
        '<object><name>cat</name><difficult>0</difficult><bndbox><xmin>1</xmin><ymin>1</ymin>'
        '<xmax>20</xmax><ymax>30</ymax></bndbox></object>'
        '<object><name>unicorn</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox>'
        '</object></annotation>')
    ds = VOCDataset(data_root=str(tmp_path / 'VOCdevkit'), ann_file='VOC2012/ImageSets/Main/val.txt',
                    data_prefix=dict(sub_data_root='VOC2012/'))
    assert ds.metainfo['dataset_type'] == 'VOC2012'
    inst = ds[0]['instances']
    assert [(i['bbox_label'], i['ignore_flag']) for i in inst] == [(11, 1), (7, 0)]
    assert inst[0]['bbox'] == [10, 20, 49, 59]  # mmdet: 1-based VOC indices minus 1
