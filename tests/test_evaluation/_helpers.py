"""Shared builders for the evaluation tests (random rotated boxes, a devkit reference loop)."""
from __future__ import annotations

import numpy as np
import shapely

from rotated_ld.evaluation.functional import rbox2poly_np


def square(x, y, s, t=None):
    """Axis-aligned square polygon (8,)."""
    return [x, y, x + s, y, x + s, y + s, x, y + s]


def rect(x1, y1, x2, y2):
    return [x1, y1, x2, y1, x2, y2, x1, y2]


def random_rboxes(rng, n, lo=0.0, hi=200.0, smin=5.0, smax=60.0):
    return np.stack([rng.uniform(lo, hi, n), rng.uniform(lo, hi, n), rng.uniform(smin, smax, n),
                     rng.uniform(smin, smax, n), rng.uniform(-np.pi, np.pi, n)], 1)


def shapely_iou(p, q):
    a, b = shapely.Polygon(np.reshape(p, (4, 2))), shapely.Polygon(np.reshape(q, (4, 2)))
    inter = a.intersection(b).area
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0


def reference_voc_eval(dets, anns, num_classes, iou_thr=0.5, use_07=True):
    """A literal loop port of DOTA_devkit's voc_eval (per class, per detection), shapely IoU."""
    from rotated_ld.evaluation.functional import average_precision

    aps = []
    for c in range(num_classes):
        recs, npos = {}, 0
        for i, ann in enumerate(anns):
            b = np.asarray(ann['bboxes']).reshape(-1, 8)[np.asarray(ann['labels']) == c]
            bi = np.asarray(ann.get('bboxes_ignore', np.zeros((0, 8)))).reshape(-1, 8)
            bi = bi[np.asarray(ann.get('labels_ignore', np.zeros(0))) == c]
            boxes = np.concatenate([b, bi])
            diff = np.r_[np.zeros(len(b), bool), np.ones(len(bi), bool)]
            recs[i] = dict(bbox=boxes, difficult=diff, det=[False] * len(boxes))
            npos += int((~diff).sum())
        ids, conf, bb = [], [], []
        for i, d in enumerate(dets):
            m = np.asarray(d['labels']) == c
            ids += [i] * int(m.sum())
            conf += list(np.asarray(d['scores'])[m])
            bb += list(np.asarray(d['bboxes']).reshape(-1, 8)[m])
        conf = np.asarray(conf)
        order = np.argsort(-conf, kind='stable')
        tp, fp = np.zeros(len(order)), np.zeros(len(order))
        for k, d in enumerate(order):
            R = recs[ids[d]]
            ovmax, jmax = -np.inf, -1
            for j, g in enumerate(R['bbox']):
                ov = shapely_iou(bb[d], g)
                if ov > ovmax:
                    ovmax, jmax = ov, j
            if ovmax > iou_thr:
                if not R['difficult'][jmax]:
                    if not R['det'][jmax]:
                        tp[k] = 1
                        R['det'][jmax] = True
                    else:
                        fp[k] = 1
            else:
                fp[k] = 1
        if npos == 0 or len(order) == 0:
            aps.append(0.0)
            continue
        ctp, cfp = np.cumsum(tp), np.cumsum(fp)
        rec = ctp / npos
        prec = ctp / np.maximum(ctp + cfp, np.finfo(np.float64).eps)
        aps.append(average_precision(rec, prec, '11points' if use_07 else 'area'))
    return np.asarray(aps)


def random_dota_set(rng, n_img=6, n_cls=3, n_gt=12, n_fp=6, difficult_frac=0.15):
    """Images with rotated GT (some difficult), jittered detections (+ duplicates) and false positives."""
    dets, anns = [], []
    for _ in range(n_img):
        g = random_rboxes(rng, n_gt)
        polys = rbox2poly_np(g)
        labels = rng.integers(0, n_cls, n_gt)
        diff = rng.random(n_gt) < difficult_frac
        anns.append(dict(bboxes=polys[~diff], labels=labels[~diff], bboxes_ignore=polys[diff],
                         labels_ignore=labels[diff]))
        keep = rng.random(n_gt) < 0.8
        jit = g[keep] + rng.normal(0, 1, (int(keep.sum()), 5)) * [3, 3, 3, 3, 0.15]
        jit[:, 2:4] = np.abs(jit[:, 2:4]) + 1
        dup = jit[: 3] + rng.normal(0, 1, (min(3, len(jit)), 5)) * [2, 2, 2, 2, 0.1]
        dup[:, 2:4] = np.abs(dup[:, 2:4]) + 1
        fps = random_rboxes(rng, n_fp)
        boxes = np.concatenate([jit, dup, fps])
        lab = np.concatenate([labels[keep], labels[keep][:3], rng.integers(0, n_cls, n_fp)])
        dets.append(dict(bboxes=rbox2poly_np(boxes), scores=rng.random(len(boxes)), labels=lab))
    return dets, anns
