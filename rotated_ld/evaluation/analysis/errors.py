"""TIDE-style error breakdown (Bolya et al., ECCV 2020) for rotated and horizontal boxes.

Every false positive of the scorer (IoU 0.5, DOTA / VOC matching of :func:`eval_map`) gets one
error type, tested in TIDE's order, with ``t_f`` = the match threshold (0.5) and ``t_b`` = 0.1 and
IoU = the scorer's (devkit polygon IoU for rotated boxes); difficult objects take no part:

1. ``loc``: its best object *of its class* has ``t_b <= IoU`` but fails the match test;
2. ``cls``: an object of *another* class passes the match test (IoU > ``t_f``);
3. ``dupe``: an object of its class that a higher-scoring detection already took passes the test;
4. ``bkg``: IoU <= ``t_b`` with every object;
5. ``both``: anything else (wrong class and poorly localised).

``missed``: an object no detection matched and no ``cls`` / ``loc`` error could take over.

AP lost to a type = AP after fixing every error of that type minus the AP as scored, each type
fixed alone (TIDE's main errors): ``loc`` / ``cls`` errors become true positives (``cls`` ones
moved to the object's class) of their object, only the highest-scoring error per free object,
the others removed (TIDE's ``BestGTMatch``); ``dupe`` / ``bkg`` / ``both`` errors are removed;
each ``missed`` object is removed from the ground truth. The re-scoring uses the scorer's
:func:`average_precision` (same AP mode) over the same classes as the scored mAP. Values are not
clipped at 0 (TIDE clips; with 11-point AP a fix can cost a hair).
"""
from __future__ import annotations

import numpy as np

from ..functional.iou import hbox_iou_pairs, overlap_pairs, poly_bounds, poly_iou_pairs
from ..functional.mean_ap import average_precision
from .evaluate import ModelEval, to_scorer_boxes

__all__ = ['ERROR_TYPES', 'classify_errors', 'error_breakdown']

ERROR_TYPES = ('cls', 'loc', 'both', 'dupe', 'bkg', 'missed')


def classify_errors(ev: ModelEval, thr: float = 0.5, bg_thr: float = 0.1, strict: bool = True) -> dict:
    """Error type of every false positive and the missed objects.

    Returns:
        dict: ``det_type`` ``(D,)`` object array (``'tp'``, ``'ignored'`` or an error type),
        ``det_target`` ``(D,)`` flat object index a ``loc`` / ``cls`` fix would match (-1 otherwise),
        ``missed`` ``(G,)`` bool, ``used`` ``(G,)`` bool (objects matched by a TP).
    """
    m = ev.matches
    ti = ev._thr_index(thr)
    tp, ign = m.tp[ti], m.ignored[ti]
    n_det, n_gt = len(m.det_label), len(m.gt_label)
    det_type = np.full(n_det, 'tp', dtype=object)
    det_type[ign] = 'ignored'
    target = np.full(n_det, -1, np.int64)
    used = np.zeros(n_gt, bool)
    used[m.best_gt[tp]] = True
    passes = (lambda x: x > thr) if strict else (lambda x: x >= thr)
    fp = np.flatnonzero(~tp & ~ign)
    g_ok = np.flatnonzero(~m.gt_difficult)  # difficult objects take no part (as TIDE's ignore regions)
    # every (false positive, object) pair of one image with overlapping bounds, IoU in one vectorised call
    det_s, gt_s = to_scorer_boxes(ev.det_boxes[fp], ev.kind), to_scorer_boxes(ev.gt_boxes[g_ok], ev.kind)
    pi, pj = overlap_pairs(poly_bounds(det_s), m.det_img[fp], poly_bounds(gt_s), m.gt_img[g_ok])
    iou = (hbox_iou_pairs if ev.kind == 'hbox' else poly_iou_pairs)(det_s[pi], gt_s[pj]) if len(pi) else np.zeros(0)
    pg = g_ok[pj]  # flat object index of each pair
    same = m.det_label[fp][pi] == m.gt_label[pg]

    def best(mask):
        """Per false positive: max IoU over the pairs in ``mask`` (-1 if none) and its object."""
        val, arg = np.full(len(fp), -1.0), np.full(len(fp), -1, np.int64)
        sel = np.flatnonzero(mask)
        if len(sel):
            o = sel[np.lexsort((pg[sel], -iou[sel], pi[sel]))]  # per det: highest IoU first, first object on ties
            first = np.ones(len(o), bool)
            first[1:] = pi[o[1:]] != pi[o[:-1]]
            val[pi[o[first]]], arg[pi[o[first]]] = iou[o[first]], pg[o[first]]
        return val, arg

    iou_same, j_same = best(same)
    iou_other, j_other = best(~same)
    iou_used, _ = best(same & used[pg])
    iou_any, _ = best(np.ones(len(pi), bool))
    is_loc = (iou_same >= bg_thr) & ~passes(iou_same)
    is_cls = ~is_loc & passes(iou_other)
    is_dupe = ~is_loc & ~is_cls & passes(iou_used)
    is_bkg = ~is_loc & ~is_cls & ~is_dupe & (iou_any <= bg_thr)
    det_type[fp] = np.select([is_loc, is_cls, is_dupe, is_bkg], ['loc', 'cls', 'dupe', 'bkg'], 'both')
    target[fp] = np.where(is_loc, j_same, np.where(is_cls, j_other, -1))
    fixable = (target >= 0) & ~used[np.maximum(target, 0)]
    usable = np.zeros(n_gt, bool)
    usable[target[fixable]] = True
    missed = ~used & ~usable & ~m.gt_difficult
    return dict(det_type=det_type, det_target=target, missed=missed, used=used)


def _map(points: dict, npos: np.ndarray, classes_in_mean: np.ndarray, mode: str) -> tuple[float, np.ndarray]:
    """mAP over ``classes_in_mean`` from per-class ``(scores, is_tp, order keys)`` points."""
    ap = np.zeros(len(npos))
    for c in range(len(npos)):
        sc, ok, key = points.get(c, (np.zeros(0), np.zeros(0, bool), np.zeros(0)))
        if not len(sc) or npos[c] <= 0:
            continue
        o = np.lexsort((key, -sc))  # score descending, ties in detection order (as eval_map)
        ctp = np.cumsum(ok[o])
        cfp = np.cumsum(~ok[o])
        rec = ctp / float(npos[c])
        prec = ctp / np.maximum(ctp + cfp, np.finfo(np.float64).eps)
        ap[c] = average_precision(rec, prec, mode)
    return float(ap[classes_in_mean].mean()) if classes_in_mean.any() else 0.0, ap


def _points(label, score, ok, key, num_classes) -> dict:
    out = {}
    for c in range(num_classes):
        s = label == c
        out[c] = (score[s], ok[s], key[s])
    return out


def error_breakdown(ev: ModelEval, thr: float = 0.5, bg_thr: float = 0.1, strict: bool = True) -> dict:
    """Counts and AP lost (in AP points of the ``thr`` mAP, 0–1 scale) per error type (module docstring).

    Returns ``dict(ap, counts={type: n}, dap={type: AP_fixed - ap}, per_class_dap={type: [C]})``.
    """
    m, res = ev.matches, ev.result
    info = classify_errors(ev, thr, bg_thr, strict)
    kind, target = info['det_type'], info['det_target']
    keep = kind != 'ignored'
    label, score = m.det_label.astype(np.int64), m.det_score
    key = np.arange(len(label), dtype=np.float64)
    ok = kind == 'tp'
    npos = res.num_gts.astype(np.int64)
    nc = len(res.classes)
    in_mean = res.valid
    base, base_ap = _map(_points(label[keep], score[keep], ok[keep], key[keep], nc), npos, in_mean, res.mode)
    # TIDE's BestGTMatch: of the cls / loc errors aiming at one free object, the best score wins
    winner = np.zeros(len(label), bool)
    cand = np.flatnonzero(((kind == 'cls') | (kind == 'loc')) & (target >= 0))
    cand = cand[~info['used'][target[cand]]]
    if len(cand):
        o = cand[np.lexsort((key[cand], -score[cand]))]
        _, first = np.unique(target[o], return_index=True)
        winner[o[first]] = True
    out = dict(ap=base, counts={}, dap={}, per_class_dap={})
    for t in ERROR_TYPES:
        lab, k2, ok2, n2 = label.copy(), keep.copy(), ok.copy(), npos.copy()
        sel = kind == t
        if t in ('cls', 'loc'):
            fixed = sel & winner
            ok2[fixed] = True
            if t == 'cls':
                lab[fixed] = m.gt_label[target[fixed]]
            k2[sel & ~winner] = False
        elif t == 'missed':
            n2 -= np.bincount(m.gt_label[info['missed']], minlength=nc)[:nc]
        else:
            k2[sel] = False
        new, new_ap = _map(_points(lab[k2], score[k2], ok2[k2], key[k2], nc), n2, in_mean, res.mode)
        out['counts'][t] = int(info['missed'].sum()) if t == 'missed' else int(sel.sum())
        out['dap'][t] = new - base
        out['per_class_dap'][t] = (new_ap - base_ap).tolist()
    return out
