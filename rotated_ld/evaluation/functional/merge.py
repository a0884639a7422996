"""Merge detections of split patches back onto their full DOTA scenes.

Same steps as DOTA_devkit's ``ResultMerge_multi_process.py`` (``mergebypoly``):

1. parse each patch name ``{image}__{size-or-rate}__{x}___{y}`` with
   :func:`rotated_ld.datasets.dota_patch_name.parse_patch_name`;
2. full-image box = ``(patch box + (x, y)) / rate`` (rotated box: centre shifted then scaled,
   ``w, h`` scaled, angle unchanged; polygon: every vertex);
3. per full image and per class, rotated NMS: a box is suppressed when its IoU with a kept,
   higher-scoring box is ``> iou_thr`` (devkit: ``0.1``).

Used by :class:`~rotated_ld.evaluation.DOTAMetric` (``merge_patches=True``) and reusable by
sliding-window inference (:func:`merge_results` works on any list of windows).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from rotated_ld.datasets.dota_patch_name import parse_patch_name

from .dota_io import rbox2poly_np
from .iou import overlap_pairs, poly_bounds, poly_iou_pairs

__all__ = ['merge_results', 'nms_polygons', 'MergeStats']


class MergeStats(dict):
    """Counts of a merge: ``patches``, ``images``, ``dets_in``, ``dets_out``, ``suppressed`` and
    ``dropped`` (NaN/inf box or score); ``dets_in == dets_out + suppressed + dropped``."""

    def __str__(self) -> str:
        s = (f"merged {self['dets_in']} detections of {self['patches']} patches into "
             f"{self['images']} images: kept {self['dets_out']}, suppressed {self['suppressed']}")
        return s + (f", dropped {self['dropped']} with NaN/inf values" if self.get('dropped') else '')


def nms_polygons(polys: np.ndarray, scores: np.ndarray, groups: np.ndarray, iou_thr: float) -> np.ndarray:
    """Greedy NMS of quadrilaterals ``(K, 8)`` within groups; returns kept indices.

    Suppresses IoU ``> iou_thr`` with a kept higher-scoring box of the same group (devkit
    ``py_cpu_nms_poly``). All overlapping pairs of all groups are found and their IoU computed in
    one vectorised pass; only the greedy sweep over boxes with overlaps is a Python loop.
    Result order: by group, then score (descending, stable).
    """
    polys = np.asarray(polys, np.float64).reshape(-1, 8)
    scores = np.asarray(scores, np.float64).reshape(-1)
    groups = np.asarray(groups, np.int64).reshape(-1)
    n = len(scores)
    order = np.lexsort((-scores, groups))
    if n <= 1:
        return order
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    b = poly_bounds(polys)
    ia, ib = overlap_pairs(b, groups, b, groups)
    keep_pair = rank[ia] < rank[ib]  # each pair once, earlier (higher score) box first
    ia, ib = ia[keep_pair], ib[keep_pair]
    hit = poly_iou_pairs(polys[ia], polys[ib]) > iou_thr
    ri, rj = rank[ia[hit]], rank[ib[hit]]
    o = np.argsort(ri, kind='stable')
    ri, rj = ri[o], rj[o]
    removed = np.zeros(n, bool)
    if len(ri):
        starts = np.flatnonzero(np.r_[True, ri[1:] != ri[:-1]])
        ends = np.r_[starts[1:], len(ri)]
        for s, e in zip(starts.tolist(), ends.tolist()):
            if not removed[ri[s]]:
                removed[rj[s:e]] = True
    return order[~removed]


def _nms_rboxes(rboxes: np.ndarray, scores: np.ndarray, groups: np.ndarray, iou_thr: float,
                backend: str = 'numpy') -> np.ndarray:
    if backend == 'ops':
        import torch  # local: evaluation.functional is torch-free; torch only for this backend

        from rotated_ld.ops import batched_nms_rotated

        keep = batched_nms_rotated(torch.from_numpy(np.ascontiguousarray(rboxes, np.float64)),
                                   torch.from_numpy(np.ascontiguousarray(scores, np.float64)),
                                   torch.from_numpy(np.ascontiguousarray(groups, np.int64)), float(iou_thr))
        return keep.cpu().numpy().astype(np.int64)
    if backend != 'numpy':
        raise ValueError(f"nms backend {backend!r}; expected 'numpy' or 'ops'")
    return nms_polygons(rbox2poly_np(rboxes), scores, groups, iou_thr)


def merge_results(patch_names: Sequence[str], results: Sequence[dict], iou_thr: float = 0.1,
                  nms: bool = True, nms_backend: str = 'numpy') -> tuple[dict, MergeStats]:
    """Map patch detections to full images and run per-class rotated NMS.

    Args:
        patch_names: one name per patch (file stems or paths; see module docstring).
        results: one dict per patch: ``bboxes`` ``(K, 5)`` rboxes (radians, any angle version)
            or ``(K, 8)`` polygons, in patch pixels; ``scores`` ``(K,)``; ``labels`` ``(K,)``.
        iou_thr: NMS IoU threshold (devkit 0.1).
        nms: False only translates/scales (then ``suppressed == 0``).
        nms_backend: ``'numpy'`` (default: :func:`nms_polygons`, sweep-pruned, fastest on CPU)
            or ``'ops'`` (``rotated_ld.ops.batched_nms_rotated``, any torch device).

    Returns:
        tuple: ``{image: dict(bboxes, scores, labels)}`` for every image that had at least one
        patch (possibly with zero detections), in full-image pixels, sorted by score per image;
        and :class:`MergeStats` with ``dets_in == dets_out + suppressed + dropped`` (``dropped``:
        detections with a NaN/inf box or score, removed and counted).
    """
    if len(patch_names) != len(results):
        raise ValueError(f'{len(patch_names)} patch names for {len(results)} results')
    images: dict = {}
    parts_b, parts_s, parts_l, parts_i = [], [], [], []
    dim = None
    n_dropped = 0
    for name, res in zip(patch_names, results):
        image, x, y, rate = parse_patch_name(name)
        img_idx = images.setdefault(image, len(images))
        b = np.asarray(res['bboxes'], np.float64)
        n_s, n_l = np.asarray(res['scores']).size, np.asarray(res['labels']).size
        n_b = 0 if b.size == 0 else b.size // b.shape[-1]
        if not n_b == n_s == n_l:  # a mismatch would shift scores onto other patches' boxes
            raise ValueError(f'{name}: {n_b} boxes, {n_s} scores, {n_l} labels; expected equal counts')
        if b.size == 0:
            continue
        d = b.shape[-1]
        if d not in (5, 8):
            raise ValueError(f'{name}: boxes of shape {b.shape}; expected (K, 5) rboxes or (K, 8) polygons')
        if dim is not None and d != dim:
            raise ValueError(f'{name}: mixed box layouts ({dim} and {d} values per box)')
        dim = d
        b = b.reshape(-1, d).copy()
        sc = np.asarray(res['scores'], np.float64).reshape(-1)
        lab = np.asarray(res['labels'], np.int64).reshape(-1)
        if len(lab) and lab.min() < 0:
            raise ValueError(f'{name}: label {int(lab.min())} < 0')
        ok = np.isfinite(b).all(1) & np.isfinite(sc)
        if not ok.all():  # counted, reported in MergeStats['dropped'], never passed on
            n_dropped += int((~ok).sum())
            b, sc, lab = b[ok], sc[ok], lab[ok]
        if d == 5:
            b[:, 0] = (b[:, 0] + x) / rate
            b[:, 1] = (b[:, 1] + y) / rate
            b[:, 2:4] /= rate
        else:
            b[:, 0::2] = (b[:, 0::2] + x) / rate
            b[:, 1::2] = (b[:, 1::2] + y) / rate
        parts_b.append(b)
        parts_s.append(sc)
        parts_l.append(lab)
        parts_i.append(np.full(len(b), img_idx, np.int64))
    dim = dim or 5
    boxes = np.concatenate(parts_b) if parts_b else np.zeros((0, dim))
    scores = np.concatenate(parts_s) if parts_s else np.zeros(0)
    labels = np.concatenate(parts_l) if parts_l else np.zeros(0, np.int64)
    img_ids = np.concatenate(parts_i) if parts_i else np.zeros(0, np.int64)
    if not (len(boxes) == len(scores) == len(labels)):
        raise ValueError('bboxes, scores and labels differ in length')
    n_in = len(boxes)  # finite detections; the NaN/inf ones are counted in n_dropped
    if nms and n_in:
        groups = img_ids * (int(labels.max()) + 1) + labels
        keep = _nms_rboxes(boxes, scores, groups, iou_thr, nms_backend) if dim == 5 else \
            nms_polygons(boxes, scores, groups, iou_thr)
    else:
        keep = np.arange(n_in)
    # order the kept boxes by image, then score (desc)
    keep = keep[np.lexsort((-scores[keep], img_ids[keep]))]
    k_img = img_ids[keep]
    out = {}
    names = list(images)
    splits = np.searchsorted(k_img, np.arange(len(names) + 1))
    for i, image in enumerate(names):
        sel = keep[splits[i]:splits[i + 1]]
        out[image] = dict(bboxes=boxes[sel], scores=scores[sel], labels=labels[sel])
    stats = MergeStats(patches=len(patch_names), images=len(names), dets_in=n_in + n_dropped,
                       dets_out=len(keep), suppressed=n_in - len(keep), dropped=n_dropped)
    return out, stats
