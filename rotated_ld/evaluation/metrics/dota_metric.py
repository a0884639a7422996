"""DOTAMetric: rotated mAP on split patches or on merged full scenes, and Task1 submissions.

* ``merge_patches=False``: patch-level mAP (what mmrotate reports) against the data samples'
  ``gt_instances`` / ``ignored_instances`` (rotated boxes -> polygons).
* ``merge_patches=True``: patch detections are mapped back to their full images and merged
  with per-class rotated NMS (:func:`~rotated_ld.evaluation.functional.merge_results`), then
  scored against the ORIGINAL full-image labelTxt files in ``gt_dir`` with DOTA_devkit's Task1
  rules — the number the DOTA server would give on val.
* ``format_only=True`` + ``outfile_prefix``: write ``Task1_<class>.txt`` (+ zip) and return
  no metrics (test sets without labels). The zip is then checked by
  :func:`~rotated_ld.evaluation.functional.submission_check.check_submission` (one file per
  class, 10 finite fields per row, original image ids -- patch names mean ``merge_patches`` was
  off); the verdict is logged (INFO ``OK`` or ERROR with the problems), never raised.

Keys: ``dota/mAP`` (mean over ``iou_thrs``), ``dota/AP50`` ... one per ``iou_thrs`` entry, and
with ``coco_thrs=True`` also ``dota/AP50``, ``dota/AP75`` and ``dota/mAP_50_95`` (mean over
0.50:0.05:0.95, the devkit's matching at each threshold).
"""
from __future__ import annotations

import os.path as osp
from typing import Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from rotated_ld.datasets.dota_patch_name import image_id
from rotated_ld.registry import METRICS

from ..functional import COCO_IOU_THRS, eval_map, load_labeltxt_dir, merge_results, rbox2poly_np, write_task1
from ..functional.submission_check import check_submission
from .map_settings import map_thresholds, to_numpy

__all__ = ['DOTAMetric']


def _to_polys(boxes) -> np.ndarray:
    b = to_numpy(boxes).astype(np.float64)
    if b.size == 0:
        return np.zeros((0, 8))
    if b.shape[-1] == 5:
        return rbox2poly_np(b)
    if b.shape[-1] == 8:
        return b.reshape(-1, 8)
    raise ValueError(f'boxes of shape {b.shape}; expected (N, 5) rotated boxes or (N, 8) polygons')


def _patch_name(sample: dict) -> str:
    img_id = sample.get('img_id')
    if isinstance(img_id, str) and img_id:
        return image_id(img_id)  # one id rule for every writer: no whitespace in Task1 rows
    path = sample.get('img_path')
    if path:
        return image_id(path)
    if img_id is not None:
        return str(img_id)
    raise KeyError('data sample has neither img_id nor img_path; cannot name the patch')


@METRICS.register_module()
class DOTAMetric(BaseMetric):
    """Rotated mAP for DOTA (see module docstring).

    Args:
        iou_thrs (float | list[float]): IoU thresholds of the main metric (strict ``>``). 0.5.
        metric (str): ``'mAP'`` (only one supported, kept for mmrotate configs).
        eval_mode (str): ``'11points'`` (VOC07, DOTA default) or ``'area'``.
        coco_thrs (bool): also report AP50, AP75 and mAP_50_95. Default True.
        merge_patches (bool): score merged full images against ``gt_dir``. Default False.
        gt_dir (str | None): full-image labelTxt folder (``ann_file`` is an alias), needed by
            ``merge_patches=True`` unless ``format_only``.
        nms_iou_thr (float): IoU threshold of the merge NMS (devkit 0.1).
        format_only (bool): only write the submission; needs ``outfile_prefix``.
        outfile_prefix (str | None): folder for ``Task1_<class>.txt`` and ``<name>.zip``; when set
            without ``format_only`` the files are written and metrics computed.
        rescale_gt (bool): divide ground-truth polygons by ``scale_factor`` (use when the pipeline
            resized the annotations but predictions are in original pixels). Default False.
        empty_class_rule (str): ``'devkit'`` or ``'mmdet'`` (see ``functional.mean_ap``).
        classwise (bool): also return ``AP50_<class>`` (first IoU threshold) for every class with
            ground truth. Default False.
        collect_device, prefix: as :class:`mmengine.evaluator.BaseMetric` (prefix ``'dota'``).
    """

    default_prefix = 'dota'

    def __init__(self,
                 iou_thrs: float | Sequence[float] = 0.5,
                 metric: str = 'mAP',
                 eval_mode: str = '11points',
                 coco_thrs: bool = True,
                 merge_patches: bool = False,
                 gt_dir: str | None = None,
                 ann_file: str | None = None,
                 nms_iou_thr: float = 0.1,
                 format_only: bool = False,
                 outfile_prefix: str | None = None,
                 rescale_gt: bool = False,
                 empty_class_rule: str = 'devkit',
                 classwise: bool = False,
                 collect_device: str = 'cpu',
                 prefix: str | None = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.iou_thrs = map_thresholds('DOTAMetric', metric, eval_mode, ('11points', 'area'), iou_thrs)
        self.eval_mode = eval_mode
        self.coco_thrs = coco_thrs
        self.merge_patches = merge_patches
        self.classwise = classwise
        self.gt_dir = gt_dir or ann_file
        self.nms_iou_thr = nms_iou_thr
        self.format_only = format_only
        self.outfile_prefix = outfile_prefix
        self.rescale_gt = rescale_gt
        self.empty_class_rule = empty_class_rule
        if format_only and not outfile_prefix:
            raise ValueError('format_only=True needs outfile_prefix (where Task1_<class>.txt go)')
        if merge_patches and not format_only and not self.gt_dir:
            raise ValueError('merge_patches=True needs gt_dir (full-image labelTxt folder) to score '
                             'merged images; or set format_only=True')

    # ------------------------------------------------------------------ process
    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep polygons of predictions (and of ground truth for patch-level scoring)."""
        for sample in data_samples:
            pred = sample['pred_instances']
            res = dict(name=_patch_name(sample),
                       bboxes=to_numpy(pred['bboxes']).astype(np.float64),
                       scores=to_numpy(pred['scores']).astype(np.float64).reshape(-1),
                       labels=to_numpy(pred['labels']).astype(np.int64).reshape(-1))
            if not self.merge_patches and not self.format_only:
                gt = sample.get('gt_instances', {}) or {}
                ign = sample.get('ignored_instances', {}) or {}
                ann = dict(bboxes=_to_polys(gt.get('bboxes', np.zeros((0, 5)))),
                           labels=to_numpy(gt.get('labels', np.zeros(0))).astype(np.int64).reshape(-1),
                           bboxes_ignore=_to_polys(ign.get('bboxes', np.zeros((0, 5)))),
                           labels_ignore=to_numpy(ign.get('labels', np.zeros(0))).astype(np.int64).reshape(-1))
                if self.rescale_gt and 'scale_factor' in sample:
                    sx, sy = sample['scale_factor'][:2]
                    for k in ('bboxes', 'bboxes_ignore'):
                        ann[k] = ann[k].copy()
                        ann[k][:, 0::2] /= sx
                        ann[k][:, 1::2] /= sy
                res['ann'] = ann
            self.results.append(res)

    # ------------------------------------------------------------------ submission check
    @staticmethod
    def _check_submission(zip_path: str, classes: tuple, images: list, logger) -> None:
        """Run the Task1 submission checker on the written zip and log its verdict (never raises).

        The expected images are the ones this metric saw (merged full images, or patches).
        """
        try:
            report = check_submission(zip_path, classes, image_list=images, allow_missing_images=True)
        except Exception as e:  # a checker bug must not lose a finished test run
            logger.error(f'DOTAMetric: submission check could not run on {zip_path}: {e!r}')
            return
        if report.ok:
            logger.info(f'DOTAMetric: submission check {report}')
        else:
            logger.error(f'DOTAMetric: submission check {report}')

    # ------------------------------------------------------------------ compute
    def _thresholds(self) -> list:
        thrs = list(self.iou_thrs)
        if self.coco_thrs:
            thrs += [t for t in COCO_IOU_THRS if all(abs(t - s) > 1e-9 for s in thrs)]
        return thrs

    def compute_metrics(self, results: list) -> dict:
        logger = MMLogger.get_current_instance()
        classes = tuple(self.dataset_meta['classes'])
        if self.merge_patches:
            names = [r['name'] for r in results]
            merged, stats = merge_results(names, results, iou_thr=self.nms_iou_thr)
            logger.info(f'DOTAMetric: {stats}')
            images = list(merged)
            dets = [dict(bboxes=_to_polys(merged[i]['bboxes']), scores=merged[i]['scores'],
                         labels=merged[i]['labels']) for i in images]
            out = dict(zip(images, dets))
        else:
            images = [r['name'] for r in results]
            dets = [dict(bboxes=_to_polys(r['bboxes']), scores=r['scores'], labels=r['labels'])
                    for r in results]
            out = dict(zip(images, dets))
        if self.outfile_prefix:
            paths = write_task1(out, classes, self.outfile_prefix,
                                zip_name=osp.basename(osp.normpath(self.outfile_prefix)) + '.zip')
            logger.info(f'DOTAMetric: wrote {len(paths) - 1} Task1 files and {paths[-1]}')
        if self.format_only:
            self._check_submission(paths[-1], classes, images, logger)
            return {}
        if self.merge_patches:
            gts = load_labeltxt_dir(self.gt_dir, classes, images)
            anns = [gts[i] for i in images]
            where = f'{len(images)} merged full images'
        else:
            anns = [r['ann'] for r in results]
            where = f'{len(images)} patches'
        thrs = self._thresholds()
        res = eval_map(dets, anns, classes, iou_thrs=thrs, mode=self.eval_mode, box_type='poly',
                       strict=True, empty_class_rule=self.empty_class_rule)
        for ti in range(len(self.iou_thrs)):
            logger.info(f'DOTAMetric on {where}:\n' + res.table(thr_index=ti))
        metrics = {}
        n_main = len(self.iou_thrs)
        metrics['mAP'] = float(np.mean(res.mean_ap[:n_main]))
        for t, m in zip(thrs, res.mean_ap):
            key = f'AP{int(round(t * 100))}'
            if t in self.iou_thrs or (self.coco_thrs and key in ('AP50', 'AP75')):
                metrics[key] = float(m)
        if self.coco_thrs:
            idx = [thrs.index(t) for t in thrs if any(abs(t - c) < 1e-9 for c in COCO_IOU_THRS)]
            metrics['mAP_50_95'] = float(np.mean(res.mean_ap[idx]))
        if self.classwise:  # per-class AP at the first IoU threshold, for classes with ground truth
            key = f'AP{int(round(self.iou_thrs[0] * 100))}'
            for c, name in enumerate(res.classes):
                if res.num_gts[c] > 0:
                    metrics[f'{key}_{name}'] = float(res.ap[c, 0])
        return metrics
