"""Score one model's detections with the project's scorer and keep every detection's outcome.

:func:`evaluate_model` runs :func:`~rotated_ld.evaluation.functional.eval_map` (DOTA_devkit /
VOC matching rules: score order, highest-IoU object of the class in the image, strict ``> thr`` for
DOTA) at IoU 0.50:0.05:0.95 with ``return_matches=True`` and adds the box parameters the error
statistics need. Nothing here re-implements matching.

Inputs (one entry per image, all models on the same image list and ground truth):
    detections: ``{image: dict(bboxes, scores, labels)}``; ``bboxes`` ``(K, 5)`` rotated
        ``(cx, cy, w, h, t)`` radians (any angle version), ``(K, 8)`` polygons, or ``(K, 4)`` xyxy.
    ground truth: ``{image: dict(bboxes, labels, bboxes_ignore, labels_ignore)}`` with ``(G, 8)``
        polygons (DOTA labelTxt), ``(G, 5)`` rotated boxes or ``(G, 4)`` xyxy; ``*_ignore`` are
        difficult / ignored objects (neither matched nor missed).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from ..functional.dota_io import rbox2poly_np
from ..functional.mean_ap import COCO_IOU_THRS, DetMatches, MeanAPResult, eval_map
from .geometry import canonical_rboxes, hbox_params

__all__ = ['ModelEval', 'evaluate_model', 'to_scorer_boxes', 'box_kind']


def box_kind(width: int) -> str:
    """``'rotated'`` for 5 / 8 values per box, ``'hbox'`` for 4."""
    if width in (5, 8):
        return 'rotated'
    if width == 4:
        return 'hbox'
    raise ValueError(f'{width} values per box; expected 4 (xyxy), 5 (cx, cy, w, h, t) or 8 (polygon)')


def to_scorer_boxes(boxes: np.ndarray, kind: str) -> np.ndarray:
    """Boxes in the layout the scorer compares: ``(K, 8)`` polygons (rotated) or ``(K, 4)`` xyxy."""
    b = np.asarray(boxes, np.float64)
    if kind == 'hbox':
        return b.reshape(-1, 4)
    if b.size == 0:
        return np.zeros((0, 8))
    return rbox2poly_np(b) if b.shape[-1] == 5 else b.reshape(-1, 8)


def _params(boxes: np.ndarray, kind: str) -> np.ndarray:
    """``(K, 5)`` canonical rboxes (rotated) or ``(K, 4)`` ``(cx, cy, w, h)`` (hbox)."""
    return canonical_rboxes(boxes) if kind == 'rotated' else hbox_params(boxes)


@dataclass
class ModelEval:
    """One model scored on the common ground truth.

    Attributes:
        name: model name; kind: ``'rotated'`` or ``'hbox'``; images: image names ``(N,)``.
        result: :class:`MeanAPResult` at IoU 0.50:0.05:0.95 with PR curves (at 0.5) and matches.
        det_params: ``(D, 5)`` canonical ``(cx, cy, L, S, phi)`` or ``(D, 4)`` ``(cx, cy, w, h)``,
            flat detection order of ``result.matches``.
        gt_params: ``(G, 5|4)`` the same for the ground truth (flat order of ``result.matches``).
        det_boxes / gt_boxes: the original boxes in the same orders (for drawing).
    """

    name: str
    kind: str
    images: list
    result: MeanAPResult
    det_params: np.ndarray
    gt_params: np.ndarray
    det_boxes: np.ndarray
    gt_boxes: np.ndarray

    @property
    def matches(self) -> DetMatches:
        return self.result.matches

    def tp_mask(self, thr: float = 0.5) -> np.ndarray:
        """``(D,)`` true positives at IoU threshold ``thr`` (one of 0.50:0.05:0.95)."""
        return self.matches.tp[self._thr_index(thr)]

    def _thr_index(self, thr: float) -> int:
        idx = [i for i, t in enumerate(self.result.iou_thrs) if abs(t - thr) < 1e-9]
        if not idx:
            raise KeyError(f'IoU threshold {thr} not evaluated; have {self.result.iou_thrs}')
        return idx[0]

    def summary(self) -> dict:
        """mAP (0.50:0.95 mean), AP50, AP75 and per-class rows, JSON-ready."""
        r = self.result
        out = dict(mAP=float(r.mean_ap.mean()), AP50=r.map_at(0.5), AP75=r.map_at(0.75), classes={})
        for c, name in enumerate(r.classes):
            if not r.valid[c]:
                continue
            out['classes'][name] = dict(gts=int(r.num_gts[c]), dets=int(r.num_dets[c]),
                                        AP50=float(r.ap[c, self._thr_index(0.5)]),
                                        AP75=float(r.ap[c, self._thr_index(0.75)]), mAP=float(r.ap[c].mean()))
        return out


def _flat(items: Sequence[np.ndarray], width: int) -> np.ndarray:
    arrs = [np.asarray(a, np.float64).reshape(-1, width) for a in items]
    return np.concatenate(arrs) if arrs else np.zeros((0, width))


def evaluate_model(name: str, detections: Mapping[str, dict], gts: Mapping[str, dict], images: Sequence[str],
                   classes: Sequence[str], strict: bool = True, mode: str = '11points') -> ModelEval:
    """Score ``detections`` on ``gts`` over ``images`` (module docstring); missing images = no detections.

    ``strict``: match at IoU ``> thr`` (DOTA devkit) or ``>= thr`` (VOC / mmdet).
    """
    images = list(images)
    widths = {np.asarray(d['bboxes']).shape[-1] for d in detections.values() if np.asarray(d['bboxes']).size}
    widths |= {np.asarray(g[k]).shape[-1] for g in gts.values() for k in ('bboxes', 'bboxes_ignore')
               if k in g and np.asarray(g[k]).size}
    kinds = {box_kind(w) for w in widths} or {'rotated'}
    if len(kinds) > 1:
        raise ValueError(f'{name}: rotated and horizontal boxes mixed between detections and ground truth '
                         f'({sorted(widths)} values per box)')
    kind = kinds.pop()
    det_w = {np.asarray(d['bboxes']).shape[-1] for d in detections.values() if np.asarray(d['bboxes']).size}
    gt_w = {np.asarray(g['bboxes']).shape[-1] for g in gts.values() if np.asarray(g['bboxes']).size} | \
        {np.asarray(g['bboxes_ignore']).shape[-1] for g in gts.values()
         if 'bboxes_ignore' in g and np.asarray(g['bboxes_ignore']).size}
    dw = det_w.pop() if len(det_w) == 1 else (4 if kind == 'hbox' else 5)
    gw = gt_w.pop() if len(gt_w) == 1 else (4 if kind == 'hbox' else 8)
    empty_det = dict(bboxes=np.zeros((0, dw)), scores=np.zeros(0), labels=np.zeros(0, np.int64))
    dets = [detections.get(i, empty_det) for i in images]
    anns = [gts[i] for i in images]
    det_boxes = _flat([d['bboxes'] for d in dets], dw)
    gt_boxes = _flat([a[k] if k in a else np.zeros((0, gw)) for a in anns for k in ('bboxes', 'bboxes_ignore')], gw)
    scorer_dets = [dict(bboxes=to_scorer_boxes(d['bboxes'], kind), scores=d['scores'], labels=d['labels'])
                   for d in dets]
    scorer_anns = [{k: (to_scorer_boxes(v, kind) if k.startswith('bboxes') else v) for k, v in a.items()
                    if k in ('bboxes', 'labels', 'bboxes_ignore', 'labels_ignore')} for a in anns]
    res = eval_map(scorer_dets, scorer_anns, classes, iou_thrs=COCO_IOU_THRS, mode=mode,
                   box_type='poly' if kind == 'rotated' else 'hbox', strict=strict,
                   return_curves=True, return_matches=True)
    return ModelEval(name=name, kind=kind, images=images, result=res, det_params=_params(det_boxes, kind),
                     gt_params=_params(gt_boxes, kind), det_boxes=det_boxes, gt_boxes=gt_boxes)
