"""CocoMetric: COCO bbox AP through pycocotools (numbers identical to running pycocotools directly).

Ground truth comes from ``ann_file`` (a COCO json) or, without it, is built from the data
samples' ``gt_instances`` (``ignored_instances`` become ``iscrowd=1``). Detections are
``xyxy`` boxes in original-image pixels, written to COCO as ``[x, y, w, h]`` with
``w = x2 - x1`` (as mmdet's ``xyxy2xywh``).

Keys: ``coco/bbox_mAP``, ``bbox_mAP_50``, ``bbox_mAP_75``, ``bbox_mAP_s``, ``bbox_mAP_m``,
``bbox_mAP_l`` (``COCOeval.stats[0:6]``, unrounded) and with ``classwise=True`` one
``bbox_<class>_precision`` per class, plus a per-class table in the log.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import os.path as osp
from typing import Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from terminaltables import AsciiTable

from rotated_ld.registry import METRICS

from .map_settings import to_numpy

__all__ = ['CocoMetric', 'coco_bbox_eval', 'build_coco_gt']

STAT_NAMES = ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l')


def _xyxy2xywh(b: np.ndarray) -> list:
    b = np.asarray(b, np.float64).reshape(-1, 4)
    return np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], 1).tolist()


def build_coco_gt(images: Sequence[dict], classes: Sequence[str], legacy_coordinate: bool = False) -> dict:
    """COCO ground-truth dict from per-image dicts.

    Args:
        images: dicts with ``id`` (int), ``width``, ``height``, ``bboxes`` ``(N, 4)`` xyxy,
            ``labels`` ``(N,)``, optional ``bboxes_ignore`` / ``labels_ignore`` (iscrowd=1).
        classes: names; category id = label + 1.
        legacy_coordinate: areas with ``+1`` pixel widths (VOC data).
    """
    anns, imgs = [], []
    off = 1.0 if legacy_coordinate else 0.0
    for im in images:
        imgs.append(dict(id=int(im['id']), width=int(im.get('width', 0)), height=int(im.get('height', 0)),
                         file_name=str(im.get('file_name', im['id']))))
        for key_b, key_l, crowd in (('bboxes', 'labels', 0), ('bboxes_ignore', 'labels_ignore', 1)):
            boxes = np.asarray(im.get(key_b, np.zeros((0, 4))), np.float64).reshape(-1, 4)
            labels = np.asarray(im.get(key_l, np.zeros(0)), np.int64).reshape(-1)
            for box, lab in zip(_xyxy2xywh(boxes), labels):
                anns.append(dict(id=len(anns) + 1, image_id=int(im['id']), category_id=int(lab) + 1,
                                 bbox=box, area=(box[2] + off) * (box[3] + off), iscrowd=crowd))
    cats = [dict(id=i + 1, name=c) for i, c in enumerate(classes)]
    return dict(images=imgs, annotations=anns, categories=cats)


def coco_bbox_eval(coco_gt, dets: list, classwise: bool = False, iou_thrs=None, logger=None):
    """Run pycocotools bbox evaluation.

    Args:
        coco_gt: a ``pycocotools.coco.COCO`` object.
        dets: COCO result dicts (``image_id``, ``category_id``, ``bbox`` xywh, ``score``).
        classwise: also return per-category AP (area all, maxDets 100, mean over IoUs).
        iou_thrs: optional IoU thresholds (default COCO 0.50:0.05:0.95).

    Returns:
        tuple: ``(stats (12,), per_class {cat_id: ap} or {}, summary text)``.
    """
    if not dets:
        return np.full(12, -1.0), {}, 'no detections'
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        coco_dt = coco_gt.loadRes(dets)
        ev = COCOeval(coco_gt, coco_dt, 'bbox')
        if iou_thrs is not None:
            ev.params.iouThrs = np.asarray(iou_thrs, np.float64)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    per_class = {}
    if classwise:
        prec = ev.eval['precision']  # (T, R, K, A, M)
        for k, cat_id in enumerate(ev.params.catIds):
            p = prec[:, :, k, 0, -1]
            p = p[p > -1]
            per_class[cat_id] = float(p.mean()) if p.size else float('nan')
    return np.asarray(ev.stats, np.float64), per_class, buf.getvalue()


@METRICS.register_module()
class CocoMetric(BaseMetric):
    """COCO bbox AP via pycocotools.

    Args:
        ann_file (str | None): COCO json; None builds ground truth from the data samples.
        metric (str | list): ``'bbox'`` (the only supported one).
        classwise (bool): per-class AP table and keys. Default False.
        format_only (bool): only write ``<outfile_prefix>.bbox.json``; needs ``outfile_prefix``.
        outfile_prefix (str | None): where to write the json results (also when evaluating).
        collect_device, prefix: as :class:`BaseMetric` (prefix ``'coco'``).
    """

    default_prefix = 'coco'

    def __init__(self, ann_file: str | None = None, metric: str | list = 'bbox', classwise: bool = False,
                 format_only: bool = False, outfile_prefix: str | None = None,
                 collect_device: str = 'cpu', prefix: str | None = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        metrics = [metric] if isinstance(metric, str) else list(metric)
        bad = [m for m in metrics if m != 'bbox']
        if bad:
            raise KeyError(f"metric {bad[0]!r} is not supported; CocoMetric evaluates 'bbox'")
        if format_only and not outfile_prefix:
            raise ValueError('format_only=True needs outfile_prefix')
        self.ann_file = ann_file
        self.classwise = classwise
        self.format_only = format_only
        self.outfile_prefix = outfile_prefix
        self._coco = None
        if ann_file is not None:
            with contextlib.redirect_stdout(io.StringIO()):
                self._coco = COCO(ann_file)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            pred = sample['pred_instances']
            res = dict(img_id=sample['img_id'], bboxes=to_numpy(pred['bboxes']).astype(np.float64).reshape(-1, 4),
                       scores=to_numpy(pred['scores']).astype(np.float64).reshape(-1),
                       labels=to_numpy(pred['labels']).astype(np.int64).reshape(-1))
            if self._coco is None:
                gt = sample.get('gt_instances', {}) or {}
                ign = sample.get('ignored_instances', {}) or {}
                h, w = sample.get('ori_shape', (0, 0))[:2]
                res['gt'] = dict(width=w, height=h,
                                 bboxes=to_numpy(gt.get('bboxes', np.zeros((0, 4)))),
                                 labels=to_numpy(gt.get('labels', np.zeros(0))),
                                 bboxes_ignore=to_numpy(ign.get('bboxes', np.zeros((0, 4)))),
                                 labels_ignore=to_numpy(ign.get('labels', np.zeros(0))))
            self.results.append(res)

    def compute_metrics(self, results: list) -> dict:
        logger = MMLogger.get_current_instance()
        classes = tuple(self.dataset_meta['classes'])
        if self._coco is not None:
            coco_gt = self._coco
            name_to_id = {c['name']: c['id'] for c in coco_gt.loadCats(coco_gt.getCatIds())}
            missing = [c for c in classes if c not in name_to_id]
            if missing:
                raise KeyError(f'classes {missing} of the dataset are not categories of {self.ann_file}')
            cat_ids = [name_to_id[c] for c in classes]
            img_map = {r['img_id']: r['img_id'] for r in results}
        else:
            cat_ids = list(range(1, len(classes) + 1))
            img_map = {}
            for r in results:
                img_map.setdefault(r['img_id'], len(img_map) + 1)
            gt = build_coco_gt([dict(id=img_map[r['img_id']], **r['gt']) for r in results], classes)
            coco_gt = COCO()
            coco_gt.dataset = gt
            with contextlib.redirect_stdout(io.StringIO()):
                coco_gt.createIndex()
        dets = []
        for r in results:
            for box, s, lab in zip(_xyxy2xywh(r['bboxes']), r['scores'], r['labels']):
                dets.append(dict(image_id=img_map[r['img_id']], category_id=cat_ids[int(lab)],
                                 bbox=box, score=float(s)))
        if self.outfile_prefix:
            os.makedirs(osp.dirname(osp.abspath(self.outfile_prefix)), exist_ok=True)
            with open(f'{self.outfile_prefix}.bbox.json', 'w') as f:
                json.dump(dets, f)
            logger.info(f'CocoMetric: wrote {self.outfile_prefix}.bbox.json ({len(dets)} detections)')
        if self.format_only:
            return {}
        stats, per_class, text = coco_bbox_eval(coco_gt, dets, classwise=self.classwise)
        logger.info('\n' + text)
        metrics = {f'bbox_{n}': float(v) for n, v in zip(STAT_NAMES, stats[:6])}
        if self.classwise:
            rows = [['category', 'AP']]
            for c, cid in zip(classes, cat_ids):
                ap = per_class.get(cid, float('nan'))
                rows.append([c, f'{ap:.3f}'])
                metrics[f'bbox_{c}_precision'] = ap
            logger.info('\n' + AsciiTable(rows).table)
        return metrics
