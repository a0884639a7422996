"""VOCMetric: PASCAL VOC mAP (11 points for VOC2007, area for VOC2012) and COCO-style AP on VOC.

The VOC mAP uses the same matcher as DOTA (:func:`~rotated_ld.evaluation.functional.eval_map`
with ``box_type='hbox'``), with VOC's conventions: a match needs IoU ``>= 0.5`` (VOC devkit,
mmdet), widths are ``x2 - x1 + 1`` (``legacy_coordinate=True``, as mmdet's VOCMetric), difficult
objects (``ignored_instances``) are neither TP nor FP, and the mean runs over classes with
ground truth. ``coco_style=True`` adds ``coco_AP`` (0.50:0.95), ``coco_AP50`` and ``coco_AP75``
computed by pycocotools on the same boxes (difficult objects as ``iscrowd=1``) — the numbers the
LD README reports for VOC.

Keys: ``pascal_voc/mAP`` (mean over ``iou_thrs``), ``pascal_voc/AP50`` (one per threshold),
``pascal_voc/coco_AP``, ``coco_AP50``, ``coco_AP75``.
"""
from __future__ import annotations

import contextlib
import io
from typing import Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from pycocotools.coco import COCO

from rotated_ld.registry import METRICS

from ..functional import eval_map
from .coco_metric import _xyxy2xywh, build_coco_gt, coco_bbox_eval
from .map_settings import map_thresholds, to_numpy

__all__ = ['VOCMetric']


@METRICS.register_module()
class VOCMetric(BaseMetric):
    """PASCAL VOC mAP (see module docstring).

    Args:
        iou_thrs (float | list[float]): IoU thresholds. Default 0.5.
        metric (str): ``'mAP'``.
        eval_mode (str | None): ``'11points'`` or ``'area'``; None picks ``'11points'`` when
            ``dataset_meta['dataset_type'] == 'VOC2007'`` (or no type given), else ``'area'``.
        coco_style (bool): also report pycocotools AP / AP50 / AP75. Default True.
        legacy_coordinate (bool): ``+1`` pixel widths. Default True.
        rescale_gt (bool): divide ground-truth boxes by ``scale_factor``. Default False.
        collect_device, prefix: as :class:`BaseMetric` (prefix ``'pascal_voc'``).
    """

    default_prefix = 'pascal_voc'

    def __init__(self, iou_thrs: float | Sequence[float] = 0.5, metric: str = 'mAP',
                 eval_mode: str | None = None, coco_style: bool = True, legacy_coordinate: bool = True,
                 rescale_gt: bool = False, collect_device: str = 'cpu', prefix: str | None = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.iou_thrs = map_thresholds('VOCMetric', metric, eval_mode, ('11points', 'area', None), iou_thrs)
        self.eval_mode = eval_mode
        self.coco_style = coco_style
        self.legacy_coordinate = legacy_coordinate
        self.rescale_gt = rescale_gt

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            pred = sample['pred_instances']
            gt = sample.get('gt_instances', {}) or {}
            ign = sample.get('ignored_instances', {}) or {}
            ann = dict(bboxes=to_numpy(gt.get('bboxes', np.zeros((0, 4)))).astype(np.float64).reshape(-1, 4),
                       labels=to_numpy(gt.get('labels', np.zeros(0))).astype(np.int64).reshape(-1),
                       bboxes_ignore=to_numpy(ign.get('bboxes', np.zeros((0, 4)))).astype(np.float64).reshape(-1, 4),
                       labels_ignore=to_numpy(ign.get('labels', np.zeros(0))).astype(np.int64).reshape(-1))
            if self.rescale_gt and 'scale_factor' in sample:
                sx, sy = sample['scale_factor'][:2]
                for k in ('bboxes', 'bboxes_ignore'):
                    ann[k] = ann[k] / np.array([sx, sy, sx, sy])
            h, w = sample.get('ori_shape', (0, 0))[:2]
            self.results.append(dict(
                ann=ann, width=w, height=h,
                det=dict(bboxes=to_numpy(pred['bboxes']).astype(np.float64).reshape(-1, 4),
                         scores=to_numpy(pred['scores']).astype(np.float64).reshape(-1),
                         labels=to_numpy(pred['labels']).astype(np.int64).reshape(-1))))

    def _mode(self) -> str:
        if self.eval_mode is not None:
            return self.eval_mode
        dtype = (self.dataset_meta or {}).get('dataset_type', 'VOC2007')
        return '11points' if dtype == 'VOC2007' else 'area'

    def compute_metrics(self, results: list) -> dict:
        logger = MMLogger.get_current_instance()
        classes = tuple(self.dataset_meta['classes'])
        dets = [r['det'] for r in results]
        anns = [r['ann'] for r in results]
        res = eval_map(dets, anns, classes, iou_thrs=self.iou_thrs, mode=self._mode(), box_type='hbox',
                       strict=False, legacy_coordinate=self.legacy_coordinate, empty_class_rule='mmdet')
        metrics = {}
        for ti, t in enumerate(self.iou_thrs):
            logger.info('VOCMetric:\n' + res.table(thr_index=ti))
            metrics[f'AP{int(round(t * 100))}'] = float(res.mean_ap[ti])
        metrics['mAP'] = float(np.mean(res.mean_ap))
        if self.coco_style:
            gt = build_coco_gt([dict(id=i + 1, width=r['width'], height=r['height'], **r['ann'])
                                for i, r in enumerate(results)], classes, self.legacy_coordinate)
            coco_gt = COCO()
            coco_gt.dataset = gt
            with contextlib.redirect_stdout(io.StringIO()):
                coco_gt.createIndex()
            cdets = [dict(image_id=i + 1, category_id=int(lab) + 1, bbox=box, score=float(s))
                     for i, r in enumerate(results)
                     for box, s, lab in zip(_xyxy2xywh(r['det']['bboxes']), r['det']['scores'],
                                            r['det']['labels'])]
            stats, _, text = coco_bbox_eval(coco_gt, cdets)
            logger.info('VOCMetric (COCO-style):\n' + text)
            metrics.update(coco_AP=float(stats[0]), coco_AP50=float(stats[1]), coco_AP75=float(stats[2]))
        return metrics
