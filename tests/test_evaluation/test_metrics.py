"""DOTAMetric (patch level, merged full images, Task1 files), VOCMetric and CocoMetric (< 5 s CPU)."""
import json
import os
import zipfile

import numpy as np
import pytest
import torch

from rotated_ld.datasets.dota import DOTA_V1_0
from rotated_ld.evaluation import CocoMetric, DOTAMetric, VOCMetric
from rotated_ld.evaluation.functional import rbox2poly_np
from rotated_ld.registry import METRICS

from .test_merge import cut, make_scene


def _sample(name, pred_boxes, pred_scores, pred_labels, gt_boxes=None, gt_labels=None, ign_boxes=None,
            ign_labels=None, **meta):
    s = dict(img_id=name, img_path=f'/data/images/{name}.png',
             pred_instances=dict(bboxes=torch.as_tensor(np.asarray(pred_boxes, float), dtype=torch.float32),
                                 scores=torch.as_tensor(pred_scores, dtype=torch.float32),
                                 labels=torch.as_tensor(pred_labels, dtype=torch.long)), **meta)
    if gt_boxes is not None:
        s['gt_instances'] = dict(bboxes=torch.as_tensor(np.asarray(gt_boxes, float), dtype=torch.float32),
                                 labels=torch.as_tensor(gt_labels, dtype=torch.long))
        dim = torch.as_tensor(gt_boxes).shape[-1] if len(gt_boxes) else 5
        s['ignored_instances'] = dict(
            bboxes=torch.as_tensor(np.asarray(ign_boxes if ign_boxes is not None else np.zeros((0, dim)), float),
                                   dtype=torch.float32),
            labels=torch.as_tensor(ign_labels if ign_labels is not None else np.zeros(0), dtype=torch.long))
    return s


def _write_labeltxt(path, boxes, labels, difficult=None):
    polys = rbox2poly_np(boxes)
    with open(path, 'w') as f:
        f.write('imagesource:synthetic\ngsd:0.5\n')
        for i, (p, lab) in enumerate(zip(polys, labels)):
            d = int(difficult[i]) if difficult is not None else 0
            f.write(' '.join(f'{v:.3f}' for v in p) + f' {DOTA_V1_0[lab]} {d}\n')


def test_registered_and_arg_checks():
    assert METRICS.get('DOTAMetric') is DOTAMetric
    with pytest.raises(ValueError, match='gt_dir'):
        DOTAMetric(merge_patches=True)
    with pytest.raises(ValueError, match='outfile_prefix'):
        DOTAMetric(format_only=True)
    with pytest.raises(KeyError, match='mAP'):
        DOTAMetric(metric='recall')


def test_dota_patch_level():
    gt = np.array([[50, 50, 40, 20, 0.3], [150, 80, 30, 30, -0.7], [300, 300, 20, 10, 0.0]])
    m = DOTAMetric()
    m.dataset_meta = dict(classes=DOTA_V1_0)
    # patch 1: both GT found (class 0, 1), one false positive; patch 2: detection on a difficult object
    s1 = _sample('P0001__1024__0___0', gt[:2], [0.9, 0.8], [0, 1], gt[:2], [0, 1])
    s2 = _sample('P0001__1024__824___0', [gt[2]], [0.95], [0], np.zeros((0, 5)), [], [gt[2]], [0])
    m.process({}, [s1, s2])
    out = m.evaluate(2)
    assert out['dota/mAP'] == 1.0 and out['dota/AP50'] == 1.0
    assert out['dota/AP75'] == 1.0 and out['dota/mAP_50_95'] == pytest.approx(1.0)


def test_dota_merged_full_images_and_task1_files(tmp_path):
    rng = np.random.default_rng(1)
    boxes, labels = make_scene(rng, size=1400, n=60)
    gt_dir = tmp_path / 'labelTxt'
    gt_dir.mkdir()
    _write_labeltxt(gt_dir / 'P0007.txt', boxes, labels)
    names, results, _ = cut(boxes, labels, size=1400)
    samples = [_sample(n, r['bboxes'], r['scores'], r['labels']) for n, r in zip(names, results)]
    out_dir = tmp_path / 'Task1'
    m = DOTAMetric(merge_patches=True, gt_dir=str(gt_dir), outfile_prefix=str(out_dir))
    m.dataset_meta = dict(classes=DOTA_V1_0)
    m.process({}, samples)
    res = m.evaluate(len(samples))
    assert res['dota/mAP'] == 1.0
    files = sorted(os.listdir(out_dir))
    assert len(files) == 16 and 'Task1.zip' in files and 'Task1_plane.txt' in files
    with zipfile.ZipFile(out_dir / 'Task1.zip') as z:
        assert sorted(z.namelist()) == sorted(f'Task1_{c}.txt' for c in DOTA_V1_0)
    rows = sum(len(open(out_dir / f).read().splitlines()) for f in files if f.endswith('.txt'))
    assert rows == len(boxes)
    # the CLI scores the written files the same
    from tools.analysis_tools.eval_dota import main
    assert main(['--gt', str(gt_dir), '--det', str(out_dir), '--out', str(tmp_path / 'r.json')]) == 0
    assert json.load(open(tmp_path / 'r.json'))['mAP']['0.5'] == 1.0


def test_dota_format_only_without_labels(tmp_path):
    m = DOTAMetric(merge_patches=True, format_only=True, outfile_prefix=str(tmp_path / 'sub'))
    m.dataset_meta = dict(classes=DOTA_V1_0)
    m.process({}, [_sample('P9__1024__0___0', [[10, 10, 8, 4, 0.1]], [0.5], [3])])
    assert m.evaluate(1) == {}
    line = open(tmp_path / 'sub' / 'Task1_ground-track-field.txt').read().split()
    assert line[0] == 'P9' and float(line[1]) == 0.5 and len(line) == 10
    assert (tmp_path / 'sub' / 'sub.zip').exists()


def test_voc_metric_11points_and_coco_style():
    m = VOCMetric()
    m.dataset_meta = dict(classes=('cat', 'dog'), dataset_type='VOC2007')
    gt = np.array([[10, 10, 50, 60], [100, 100, 150, 130]], float)
    s = _sample('000001', gt, [0.9, 0.8], [0, 1], gt, [0, 1], np.array([[200, 200, 220, 220.]]), [0],
                ori_shape=(300, 300))
    m.process({}, [s])
    out = m.evaluate(1)
    assert out['pascal_voc/mAP'] == 1.0 and out['pascal_voc/AP50'] == 1.0
    assert out['pascal_voc/coco_AP'] == pytest.approx(1.0) and out['pascal_voc/coco_AP50'] == pytest.approx(1.0)
    assert m._mode() == '11points'
    m.dataset_meta = dict(classes=('cat', 'dog'), dataset_type='VOC2012')
    assert m._mode() == 'area'


def _coco_set(rng, n_img=6, n_cat=3):
    images, anns, dets = [], [], []
    cat_ids = [3, 7, 11]  # non-contiguous ids as in COCO
    for i in range(n_img):
        images.append(dict(id=100 + i, width=640, height=480, file_name=f'{i}.jpg'))
        for _ in range(rng.integers(3, 9)):
            x, y = rng.uniform(0, 500), rng.uniform(0, 380)
            w, h = rng.uniform(5, 120), rng.uniform(5, 90)
            c = int(rng.integers(0, n_cat))
            anns.append(dict(id=len(anns) + 1, image_id=100 + i, category_id=cat_ids[c], bbox=[x, y, w, h],
                             area=w * h, iscrowd=int(rng.random() < 0.1)))
            if rng.random() < 0.8:
                j = rng.normal(0, 4, 4)
                dets.append((100 + i, c, [x + j[0], y + j[1], x + w + j[2], y + h + j[3]], rng.random()))
        for _ in range(3):
            x, y = rng.uniform(0, 500), rng.uniform(0, 380)
            dets.append((100 + i, int(rng.integers(0, n_cat)), [x, y, x + 40, y + 30], rng.random() * 0.5))
    cats = [dict(id=c, name=n) for c, n in zip(cat_ids, ('a', 'b', 'c'))]
    return dict(images=images, annotations=anns, categories=cats), dets, cat_ids


def test_coco_metric_equals_raw_pycocotools(tmp_path):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    rng = np.random.default_rng(3)
    gt, dets, cat_ids = _coco_set(rng)
    ann_file = tmp_path / 'gt.json'
    ann_file.write_text(json.dumps(gt))
    # raw pycocotools
    coco = COCO(str(ann_file))
    raw = [dict(image_id=i, category_id=cat_ids[c], bbox=[b[0], b[1], b[2] - b[0], b[3] - b[1]], score=s)
           for i, c, b, s in dets]
    ev = COCOeval(coco, coco.loadRes(raw), 'bbox')
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    # ours
    m = CocoMetric(ann_file=str(ann_file), classwise=True, outfile_prefix=str(tmp_path / 'res'))
    m.dataset_meta = dict(classes=('a', 'b', 'c'))
    by_img = {}
    for i, c, b, s in dets:
        by_img.setdefault(i, []).append((c, b, s))
    samples = [_sample(i, [b for _, b, _ in v], [s for _, _, s in v], [c for c, _, _ in v])
               for i, v in by_img.items()]
    m.process({}, samples)
    out = m.evaluate(len(samples))
    names = ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l')
    # float32 tensors in the data samples: same numbers to float32 box precision
    for k, n in enumerate(names):
        assert out[f'coco/bbox_{n}'] == pytest.approx(ev.stats[k], abs=1e-6), n
    assert 'coco/bbox_a_precision' in out
    assert len(json.load(open(tmp_path / 'res.bbox.json'))) == len(dets)


def test_coco_metric_without_ann_file():
    m = CocoMetric()
    m.dataset_meta = dict(classes=('a', 'b'))
    gt = np.array([[10, 10, 50, 60], [100, 100, 150, 130]], float)
    m.process({}, [_sample(5, gt, [0.9, 0.8], [0, 1], gt, [0, 1], ori_shape=(200, 200))])
    out = m.evaluate(1)
    assert out['coco/bbox_mAP'] == pytest.approx(1.0)


def test_dota_iou_thrs_keys_and_rescale_gt():
    gt = np.array([[50, 50, 40, 20, 0.3]])
    pred = np.array([[50, 50, 40, 17, 0.3]])  # IoU 0.85
    m = DOTAMetric(iou_thrs=[0.5, 0.9], coco_thrs=False, rescale_gt=True)
    m.dataset_meta = dict(classes=DOTA_V1_0)
    half = gt.copy()
    half[:, :4] *= 0.5  # GT resized by 0.5 in the pipeline, predictions in original pixels
    m.process({}, [_sample('P1__1024__0___0', pred, [0.9], [0], half, [0], scale_factor=(0.5, 0.5))])
    out = m.evaluate(1)
    assert out == {'dota/mAP': 0.5, 'dota/AP50': 1.0, 'dota/AP90': 0.0}


@pytest.mark.parametrize('cls, modes', [(DOTAMetric, "'11points' or 'area'"),
                                        (VOCMetric, "'11points', 'area' or None")])
def test_map_metrics_refuse_bad_settings_alike(cls, modes):
    """Both mAP metrics check metric / eval_mode through one helper; the message names the metric class."""
    with pytest.raises(KeyError, match=f"metric='bbox'; {cls.__name__} supports 'mAP'"):
        cls(metric='bbox')
    with pytest.raises(ValueError, match=f"eval_mode='x'; expected {modes}$"):
        cls(eval_mode='x')
    assert cls(iou_thrs=0.5).iou_thrs == [0.5] and cls(iou_thrs=(0.5, 0.75)).iou_thrs == [0.5, 0.75]
