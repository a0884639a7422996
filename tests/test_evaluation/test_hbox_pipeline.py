"""Contract test with the data side for horizontal boxes: synthetic COCO / VOC sets -> datasets + test
pipelines -> predictions equal to the packed ground truth -> CocoMetric / VOCMetric give 1.0 (< 5 s CPU)."""
import numpy as np
import pytest
import torch

from rotated_ld.datasets.synthetic import HBOX_CLASSES
from rotated_ld.evaluation import CocoMetric, VOCMetric
from rotated_ld.registry import DATASETS

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(160, 160), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]


def _perfect_samples(ds):
    out = []
    for i in range(len(ds)):
        s = ds[i]['data_samples']
        gt = s.gt_instances
        s.pred_instances = gt.new(bboxes=gt.bboxes, scores=torch.ones(len(gt)), labels=gt.labels)
        out.append(s.to_dict())
    return out


def test_coco_dataset_to_coco_metric(tmp_path):
    from rotated_ld.datasets.synthetic import write_coco_set

    paths = write_coco_set(str(tmp_path), {'val2017': 4}, size_range=(128, 160))
    ds = DATASETS.build(dict(type='CocoDataset', data_root=str(tmp_path), ann_file=paths['val2017'],
                             data_prefix=dict(img='val2017/'), test_mode=True, pipeline=PIPELINE,
                             metainfo=dict(classes=HBOX_CLASSES)))
    samples = _perfect_samples(ds)
    assert isinstance(samples[0]['img_id'], int)
    m = CocoMetric(ann_file=paths['val2017'], classwise=True)
    m.dataset_meta = ds.metainfo
    m.process({}, samples)
    out = m.evaluate(len(samples))
    assert out['coco/bbox_mAP'] == pytest.approx(1.0)


def test_voc_dataset_to_voc_metric(tmp_path):
    from rotated_ld.datasets.synthetic import write_voc_set

    write_voc_set(str(tmp_path), {'test': 4}, size_range=(128, 160))
    ds = DATASETS.build(dict(type='VOCDataset', data_root=str(tmp_path / 'VOCdevkit'),
                             ann_file='VOC2007/ImageSets/Main/test.txt', data_prefix=dict(sub_data_root='VOC2007/'),
                             test_mode=True, pipeline=PIPELINE, metainfo=dict(classes=HBOX_CLASSES)))
    samples = _perfect_samples(ds)
    assert sum(len(s['gt_instances']['labels']) for s in samples) > 0
    m = VOCMetric()
    m.dataset_meta = ds.metainfo
    m.process({}, samples)
    out = m.evaluate(len(samples))
    assert out['pascal_voc/mAP'] == 1.0 and out['pascal_voc/coco_AP'] == pytest.approx(1.0)
    assert np.isfinite(out['pascal_voc/coco_AP75'])
