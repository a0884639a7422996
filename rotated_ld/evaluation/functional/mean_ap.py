"""VOC-style mean AP for quadrilaterals (DOTA Task1) and horizontal boxes (PASCAL VOC).

Matching rules are those of DOTA_devkit's ``dota_evaluation_task1.py::voc_eval`` (and of the
PASCAL VOC devkit it derives from), applied per class:

1. detections of the class, over all images, sorted by score, descending (stable: ties keep the
   input order; the devkit's ``np.argsort(-conf)`` leaves tie order unspecified);
2. each detection picks the ground truth of **highest IoU in its image** (first one on ties);
3. if that IoU is ``> iou_thr`` (``strict=True``, DOTA) or ``>= iou_thr`` (``strict=False``,
   VOC / mmdet): a difficult (ignored) ground truth makes the detection neither TP nor FP;
   otherwise it is a TP if the ground truth is still free, else a FP (no fall-back to the
   second-best ground truth); below the threshold it is a FP;
4. ``npos`` counts non-difficult ground truths; recall = cumTP / npos, precision =
   cumTP / max(cumTP + cumFP, eps);
5. AP: ``'11points'`` (VOC2007, DOTA default) = mean over ``t in np.arange(0, 1.1, 0.1)`` of the
   best precision at recall >= t; ``'area'`` (VOC2010+) = area under the monotone envelope.

Empty classes (documented difference; the devkit has no rule for them):
    * class with detections but no non-difficult ground truth: AP = 0, included in the mean
      (devkit: 0 with 11 points, NaN with ``area``);
    * class with ground truth but no detections: AP = 0, included (devkit: crash on the empty
      ``Task1_<class>.txt``);
    * class with neither: left out of the mean (devkit: crash). With
      ``empty_class_rule='mmdet'`` only classes with ground truth enter the mean (mmdet/mmrotate).

Speed: candidate pairs are built for all (image, class) groups at once, pre-filtered by
horizontal bounds (the devkit's hbb test), the IoU is computed for the surviving pairs in one
vectorised call, and since rule 2 does not depend on earlier matches, "first detection in score
order to claim a ground truth" is an ``np.unique`` — no Python loop over detections. Several IoU
thresholds reuse the same IoUs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from terminaltables import AsciiTable

from .iou import hbox_iou_pairs, overlap_pairs, poly_bounds, poly_iou_pairs

__all__ = ['average_precision', 'eval_map', 'MeanAPResult', 'DetMatches', 'COCO_IOU_THRS']

COCO_IOU_THRS = tuple(np.round(np.linspace(0.5, 0.95, 10), 2).tolist())
AP_MODES = ('11points', 'area')


def average_precision(recall: np.ndarray, precision: np.ndarray, mode: str = '11points') -> float:
    """AP of one precision/recall curve (arrays in detection order, as the devkit's ``voc_ap``).

    Args:
        recall, precision: ``(n,)`` cumulative recall / precision.
        mode: ``'11points'`` (VOC2007) or ``'area'`` (VOC2010+).
    """
    recall = np.asarray(recall, dtype=np.float64)
    precision = np.asarray(precision, dtype=np.float64)
    if mode == '11points':
        total = 0.0
        for t in np.arange(0.0, 1.1, 0.1):  # same floats as the devkit (0.30000000000000004, ...)
            sel = recall >= t
            total += precision[sel].max() if sel.any() else 0.0
        # sum then divide (as mmdet): a perfect curve gives exactly 1.0; the devkit's running
        # sum of p / 11 differs by at most a few ulp (1.0000000000000002)
        return float(total / 11.0)
    if mode == 'area':
        mrec = np.concatenate(([0.0], recall, [1.0]))
        mpre = np.concatenate(([0.0], precision, [0.0]))
        mpre = np.maximum.accumulate(mpre[::-1])[::-1]
        i = np.flatnonzero(mrec[1:] != mrec[:-1])
        return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))
    raise ValueError(f'mode={mode!r}; expected one of {AP_MODES}')


@dataclass
class DetMatches:
    """Per-detection outcome of :func:`eval_map` (``return_matches=True``), for analysis tools.

    ``D`` detections flattened over images in input order (image 0's first, ...), ``G`` ground
    truths flattened per image as ``bboxes`` then ``bboxes_ignore``, ``T`` thresholds.

    Attributes:
        det_img, det_idx: ``(D,)`` image index and index within that image's detections.
        det_label, det_score: ``(D,)``.
        best_gt: ``(D,)`` flat index of the same-class ground truth of highest IoU in the image
            (rule 2 of the module docstring), -1 if none overlaps.
        best_iou: ``(D,)`` its IoU (0 when ``best_gt`` is -1).
        tp: ``(T, D)`` bool, true positive at each threshold (``best_gt`` is then its object).
        ignored: ``(T, D)`` bool, matched a difficult object: neither TP nor FP.
        gt_img, gt_idx: ``(G,)`` image index and index within ``bboxes`` (or ``bboxes_ignore``
            when ``gt_difficult``) of that image.
        gt_label, gt_difficult: ``(G,)``.
    """

    det_img: np.ndarray
    det_idx: np.ndarray
    det_label: np.ndarray
    det_score: np.ndarray
    best_gt: np.ndarray
    best_iou: np.ndarray
    tp: np.ndarray
    ignored: np.ndarray
    gt_img: np.ndarray
    gt_idx: np.ndarray
    gt_label: np.ndarray
    gt_difficult: np.ndarray


@dataclass
class MeanAPResult:
    """Result of :func:`eval_map`. ``T`` IoU thresholds, ``C`` classes.

    Attributes:
        classes: class names ``(C,)``.
        iou_thrs: thresholds ``(T,)``.
        ap: ``(C, T)`` AP per class and threshold.
        recall: ``(C, T)`` final recall per class and threshold.
        num_gts: ``(C,)`` non-difficult ground truths; num_dets: ``(C,)`` detections.
        valid: ``(C,)`` classes that enter the mean (see module docstring).
        mean_ap: ``(T,)`` mAP per threshold.
        curves: per class, ``(recall, precision)`` at ``iou_thrs[0]`` (when requested).
        matches: :class:`DetMatches` (when requested).
    """

    classes: tuple
    iou_thrs: tuple
    ap: np.ndarray
    recall: np.ndarray
    num_gts: np.ndarray
    num_dets: np.ndarray
    valid: np.ndarray
    mean_ap: np.ndarray
    mode: str = '11points'
    curves: list = field(default_factory=list)
    matches: DetMatches | None = None

    @property
    def map(self) -> float:
        """mAP at the first threshold (0.5 by default)."""
        return float(self.mean_ap[0])

    def map_at(self, thr: float) -> float:
        """mAP at threshold ``thr`` (must be one of ``iou_thrs``)."""
        idx = [i for i, t in enumerate(self.iou_thrs) if abs(t - thr) < 1e-9]
        if not idx:
            raise KeyError(f'iou_thr={thr} not evaluated; have {self.iou_thrs}')
        return float(self.mean_ap[idx[0]])

    def table(self, thr_index: int = 0, digits: int = 3) -> str:
        """Per-class table ``class | gts | dets | recall | ap`` plus the mAP row (mmdet layout)."""
        f = f'{{:.{digits}f}}'
        rows = [['class', 'gts', 'dets', 'recall', 'ap']]
        for c, name in enumerate(self.classes):
            rows.append([name, str(int(self.num_gts[c])), str(int(self.num_dets[c])),
                         f.format(self.recall[c, thr_index]), f.format(self.ap[c, thr_index])])
        rows.append(['mAP', '', '', '', f.format(self.mean_ap[thr_index])])
        tab = AsciiTable(rows, title=f'IoU > {self.iou_thrs[thr_index]:g} ({self.mode})')
        tab.inner_footing_row_border = True
        return tab.table

    def to_dict(self) -> dict:
        """JSON-ready summary: mAP per threshold and the per-class rows."""
        out = {'mode': self.mode, 'iou_thrs': list(self.iou_thrs),
               'mAP': {f'{t:g}': float(m) for t, m in zip(self.iou_thrs, self.mean_ap)},
               'classes': {}}
        for c, name in enumerate(self.classes):
            out['classes'][name] = {
                'gts': int(self.num_gts[c]), 'dets': int(self.num_dets[c]),
                'recall': {f'{t:g}': float(r) for t, r in zip(self.iou_thrs, self.recall[c])},
                'ap': {f'{t:g}': float(a) for t, a in zip(self.iou_thrs, self.ap[c])}}
        return out


def _stack(items: Sequence[dict], key: str, dim: int, dtype=np.float64) -> np.ndarray:
    arrs = [np.asarray(it.get(key, np.zeros((0, dim) if dim else 0)), dtype=dtype) for it in items]
    for i, a in enumerate(arrs):
        if dim and a.size and a.shape[-1] != dim:
            raise ValueError(f'image {i}: {key} of shape {a.shape}; expected (N, {dim}) '
                             f"({'polygons' if dim == 8 else 'xyxy boxes'}; convert rotated boxes with rbox2poly_np)")
    arrs = [a.reshape(-1, dim) if dim else a.reshape(-1) for a in arrs]
    if not arrs:
        return np.zeros((0, dim) if dim else 0, dtype=dtype)
    return np.concatenate(arrs)


def eval_map(det_results: Sequence[dict],
             annotations: Sequence[dict],
             classes: Sequence[str] | int,
             iou_thrs: float | Sequence[float] = 0.5,
             mode: str = '11points',
             box_type: str = 'poly',
             strict: bool = True,
             legacy_coordinate: bool = False,
             empty_class_rule: str = 'devkit',
             return_curves: bool = False,
             iou_backend: str | None = None,
             return_matches: bool = False) -> MeanAPResult:
    """VOC/DOTA mean AP over images (rules in the module docstring).

    Args:
        det_results: one dict per image: ``bboxes`` ``(K, 8)`` polygons or ``(K, 4)`` xyxy,
            ``scores`` ``(K,)``, ``labels`` ``(K,)`` int in ``[0, C)``.
        annotations: one dict per image (same order): ``bboxes`` ``(G, 8|4)``, ``labels``
            ``(G,)``, optional ``bboxes_ignore`` / ``labels_ignore`` (difficult objects).
        classes: class names or their number ``C``.
        iou_thrs: one threshold or several (e.g. :data:`COCO_IOU_THRS`).
        mode: ``'11points'`` or ``'area'``.
        box_type: ``'poly'`` (quadrilaterals, polygon IoU) or ``'hbox'``.
        strict: match when IoU ``> thr`` (DOTA devkit) instead of ``>= thr`` (VOC, mmdet).
        legacy_coordinate: hbox only, ``+1`` pixel widths as the VOC devkit.
        empty_class_rule: ``'devkit'`` or ``'mmdet'`` (which classes enter the mean).
        return_curves: keep per-class (recall, precision) at the first threshold.
        iou_backend: polygon IoU backend (see :func:`poly_iou_pairs`).
        return_matches: keep each detection's outcome (:class:`DetMatches`).

    Returns:
        MeanAPResult
    """
    if mode not in AP_MODES:
        raise ValueError(f'mode={mode!r}; expected one of {AP_MODES}')
    if box_type not in ('poly', 'hbox'):
        raise ValueError(f"box_type={box_type!r}; expected 'poly' or 'hbox'")
    if empty_class_rule not in ('devkit', 'mmdet'):
        raise ValueError(f"empty_class_rule={empty_class_rule!r}; expected 'devkit' or 'mmdet'")
    if len(det_results) != len(annotations):
        raise ValueError(f'{len(det_results)} detection entries for {len(annotations)} images')
    names = tuple(str(i) for i in range(classes)) if isinstance(classes, int) else tuple(classes)
    num_classes = len(names)
    thrs = tuple(float(t) for t in np.atleast_1d(iou_thrs))
    dim = 8 if box_type == 'poly' else 4
    n_img = len(det_results)

    # ---- flatten detections and ground truth over images (difficult appended as flagged gts)
    det_boxes = _stack(det_results, 'bboxes', dim)
    det_scores = _stack(det_results, 'scores', 0)
    det_labels = _stack(det_results, 'labels', 0, np.int64)
    det_img = np.repeat(np.arange(n_img), [len(np.asarray(d.get('scores', ())).reshape(-1))
                                           for d in det_results])
    gt_parts, gt_img_parts, gt_idx_parts = [], [], []
    for i, ann in enumerate(annotations):
        for key in ('bboxes', 'bboxes_ignore'):
            a = np.asarray(ann.get(key, np.zeros((0, dim))))
            if a.size and a.shape[-1] != dim:
                raise ValueError(f'image {i}: annotation {key} of shape {a.shape}; expected (N, {dim})')
        b = np.asarray(ann.get('bboxes', np.zeros((0, dim))), np.float64).reshape(-1, dim)
        lab = np.asarray(ann.get('labels', np.zeros(0)), np.int64).reshape(-1)
        bi = np.asarray(ann.get('bboxes_ignore', np.zeros((0, dim))), np.float64).reshape(-1, dim)
        li = np.asarray(ann.get('labels_ignore', np.zeros(0)), np.int64).reshape(-1)
        gt_parts.append((b, lab, np.zeros(len(b), bool)))
        gt_parts.append((bi, li, np.ones(len(bi), bool)))
        gt_img_parts += [np.full(len(b), i), np.full(len(bi), i)]
        gt_idx_parts += [np.arange(len(b)), np.arange(len(bi))]
    gt_boxes = np.concatenate([p[0] for p in gt_parts]) if gt_parts else np.zeros((0, dim))
    gt_labels = np.concatenate([p[1] for p in gt_parts]) if gt_parts else np.zeros(0, np.int64)
    gt_diff = np.concatenate([p[2] for p in gt_parts]) if gt_parts else np.zeros(0, bool)
    gt_img = np.concatenate(gt_img_parts).astype(np.int64) if gt_img_parts else np.zeros(0, np.int64)
    for what, lab in (('detection', det_labels), ('ground-truth', gt_labels)):
        if len(lab) and (lab.min() < 0 or lab.max() >= num_classes):
            raise ValueError(f'{what} label {int(lab.max() if lab.max() >= num_classes else lab.min())} '
                             f'outside [0, {num_classes})')
    if not np.isfinite(det_scores).all():
        raise ValueError(f'{int((~np.isfinite(det_scores)).sum())} detection scores are NaN/inf')

    # ---- candidate pairs: same (image, class) group, overlapping horizontal bounds (the
    # devkit's hbb prefilter; pairs outside it have polygon IoU 0 and cannot match)
    gkey = gt_img * num_classes + gt_labels
    dkey = det_img * num_classes + det_labels
    off = 1.0 if (box_type == 'hbox' and legacy_coordinate) else 0.0
    pair_det, pair_gt = overlap_pairs(poly_bounds(det_boxes), dkey, poly_bounds(gt_boxes), gkey, pad=off)
    if box_type == 'poly':
        ious = poly_iou_pairs(det_boxes[pair_det], gt_boxes[pair_gt], backend=iou_backend)
    else:
        ious = hbox_iou_pairs(det_boxes[pair_det], gt_boxes[pair_gt], legacy=legacy_coordinate)

    # ---- best ground truth per detection: max IoU, first gt (in file order) on ties
    ovmax = np.full(len(dkey), -np.inf)
    jmax = np.full(len(dkey), -1, dtype=np.int64)
    if len(pair_det):
        o = np.lexsort((pair_gt, -ious, pair_det))
        first = np.ones(len(o), bool)
        first[1:] = pair_det[o[1:]] != pair_det[o[:-1]]
        best = o[first]
        ovmax[pair_det[best]] = ious[best]
        jmax[pair_det[best]] = pair_gt[best]

    # ---- score order per class (stable), then TP/FP per threshold
    order = np.lexsort((-det_scores, det_labels))
    lab_sorted = det_labels[order]
    cls_start = np.searchsorted(lab_sorted, np.arange(num_classes), 'left')
    cls_end = np.searchsorted(lab_sorted, np.arange(num_classes), 'right')
    npos = np.bincount(gt_labels[~gt_diff], minlength=num_classes)[:num_classes]
    ndet = (cls_end - cls_start).astype(np.int64)
    ov_s, j_s = ovmax[order], jmax[order]
    diff_s = np.where(j_s >= 0, gt_diff[np.maximum(j_s, 0)] if len(gt_diff) else False, False)

    ap = np.zeros((num_classes, len(thrs)))
    tp_all = np.zeros((len(thrs), len(order)), bool)  # in score order, per threshold
    ign_all = np.zeros((len(thrs), len(order)), bool)
    rec_final = np.zeros((num_classes, len(thrs)))
    curves = [None] * num_classes
    eps = np.finfo(np.float64).eps
    for ti, thr in enumerate(thrs):
        hit = (ov_s > thr) if strict else (ov_s >= thr)
        claim = hit & ~diff_s
        tp = np.zeros(len(order))
        _, first_pos = np.unique(np.where(claim, j_s, -1), return_index=True)
        first_pos = first_pos[claim[first_pos]]
        tp[first_pos] = 1.0
        fp = (~hit | (claim & (tp == 0))).astype(np.float64)
        tp_all[ti], ign_all[ti] = tp > 0, hit & diff_s
        for c in range(num_classes):
            s, e = cls_start[c], cls_end[c]
            if e == s or npos[c] == 0:
                continue  # AP 0 (see module docstring)
            ctp, cfp = np.cumsum(tp[s:e]), np.cumsum(fp[s:e])
            rec = ctp / float(npos[c])
            prec = ctp / np.maximum(ctp + cfp, eps)
            ap[c, ti] = average_precision(rec, prec, mode)
            rec_final[c, ti] = rec[-1]
            if return_curves and ti == 0:
                curves[c] = (rec, prec)
    if empty_class_rule == 'devkit':
        valid = (npos > 0) | (ndet > 0)
    else:
        valid = npos > 0
    mean_ap = ap[valid].mean(0) if valid.any() else np.zeros(len(thrs))
    matches = None
    if return_matches:
        tp_in, ign_in = np.zeros_like(tp_all), np.zeros_like(ign_all)
        tp_in[:, order], ign_in[:, order] = tp_all, ign_all  # back to input order
        counts = np.bincount(det_img, minlength=n_img) if len(det_img) else np.zeros(n_img, np.int64)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        gt_idx = np.concatenate(gt_idx_parts).astype(np.int64) if gt_idx_parts else np.zeros(0, np.int64)
        matches = DetMatches(det_img=det_img.astype(np.int64), det_idx=np.arange(len(det_img)) - starts[det_img],
                             det_label=det_labels, det_score=det_scores, best_gt=jmax,
                             best_iou=np.where(jmax >= 0, ovmax, 0.0), tp=tp_in, ignored=ign_in,
                             gt_img=gt_img, gt_idx=gt_idx, gt_label=gt_labels, gt_difficult=gt_diff)
    return MeanAPResult(classes=names, iou_thrs=thrs, ap=ap, recall=rec_final, num_gts=npos,
                        num_dets=ndet, valid=valid, mean_ap=mean_ap, mode=mode,
                        curves=curves if return_curves else [], matches=matches)
