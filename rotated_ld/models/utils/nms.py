"""The one NMS dispatcher: ``test_cfg.nms = dict(type=NAME, iou_threshold=..., **options)``.

Every head resolves its NMS here (:func:`multiclass_nms` / :func:`get_nms`); the algorithms live
in :mod:`rotated_ld.ops`. Registered types:

==================================  ======  =============================================================
type                                boxes   algorithm
==================================  ======  =============================================================
``'nms'``                           (N, 4)  greedy per class, torchvision ``batched_nms``
``'cluster_diounms'``               (N, 4)  Cluster-DIoU-NMS (LD repo), :mod:`rotated_ld.ops.voting_nms`
``'voting_cluster_diounms'``        (N, 4)  the same + score voting (LD repo's test-time NMS)
``'nms_rotated'``                   (N, 5)  greedy per class, exact rotated IoU (rotated default)
``'rotated_voting_nms'``            (N, 5)  greedy rotated NMS + rotated score voting (PAA / GFLv2 style)
``'cluster_diounms_rotated'``       (N, 5)  rotated Cluster-DIoU-NMS
``'voting_cluster_diounms_rotated'`` (N, 5)  the same + voting with a circular angle mean
==================================  ======  =============================================================

Contract of a registered function (:func:`register_nms`)::

    fn(boxes (N, 4|5), scores (N,), idxs (N,) long, iou_threshold=..., **options)
        -> (boxes (K, 4|5), scores (K,), keep (K,) input rows)   sorted by score, descending

(boxes may be refined, e.g. by voting). Options are the function's keyword parameters; an unknown
option is a ``ValueError`` when the config is resolved, naming the valid ones. ``iou_thr`` (the
mmdet 2.x / mmrotate 0.x spelling) is accepted for ``iou_threshold``.
"""
from __future__ import annotations

import inspect
from typing import Callable, Optional

import torch
from torch import Tensor
from torchvision.ops import batched_nms as _tv_batched_nms

from rotated_ld.ops import batched_nms_rotated
from rotated_ld.ops.rotated_voting_nms import rotated_voting_nms as _rotated_voting_nms
from rotated_ld.ops.voting_nms import voting_cluster_diou_nms, voting_cluster_diounms_rotated

NmsFn = Callable[[Tensor, Tensor, Tensor], tuple[Tensor, Tensor, Tensor]]
_NMS: dict[str, Callable] = {}


def register_nms(name: str) -> Callable:
    """Decorator: make ``fn`` selectable as ``test_cfg.nms.type=name`` (contract: module docstring)."""
    def deco(fn):
        _NMS[name] = fn
        return fn
    return deco


def _class_ids(idxs: Tensor, class_agnostic: bool) -> Tensor:
    return torch.zeros_like(idxs) if class_agnostic else idxs


@register_nms('nms')
def torchvision_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float = 0.5,
                    class_agnostic: bool = False) -> tuple[Tensor, Tensor, Tensor]:
    """Greedy per-class NMS of xyxy boxes (torchvision ``batched_nms``)."""
    keep = _tv_batched_nms(boxes.float(), scores.float(), _class_ids(idxs, class_agnostic), iou_threshold)
    return boxes[keep], scores[keep], keep


@register_nms('nms_rotated')
def nms_rotated_by_class(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float = 0.1,
                         class_agnostic: bool = False) -> tuple[Tensor, Tensor, Tensor]:
    """Greedy per-class NMS of rboxes ``(cx, cy, w, h, t)`` (exact rotated IoU)."""
    keep = batched_nms_rotated(boxes.float(), scores.float(), _class_ids(idxs, class_agnostic), iou_threshold)
    return boxes[keep], scores[keep], keep


@register_nms('rotated_voting_nms')
def rotated_voting_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float = 0.1,
                       voting_thr: float = 0.01, sigma: Optional[float] = 0.025, voting: bool = True,
                       angle_version: Optional[str] = None,
                       class_agnostic: bool = False) -> tuple[Tensor, Tensor, Tensor]:
    """Greedy class-wise rotated NMS + rotated score voting (:func:`rotated_ld.ops.rotated_voting_nms`)."""
    return _rotated_voting_nms(boxes, scores, idxs, iou_threshold, voting_thr=voting_thr, sigma=sigma,
                               voting=voting, angle_version=angle_version, class_agnostic=class_agnostic)


def _cluster_diounms(voting: bool) -> Callable:
    def fn(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float = 0.6, beta: float = 0.8,
           vote_threshold: float = 0.7, sigma: float = 0.025, max_candidates: int = 3000,
           max_num: int = -1) -> tuple[Tensor, Tensor, Tensor]:
        return voting_cluster_diou_nms(boxes, scores, idxs, iou_threshold, beta=beta, vote_threshold=vote_threshold,
                                       sigma=sigma, voting=voting, max_candidates=max_candidates, max_num=max_num)
    fn.__doc__ = f"Cluster-DIoU-NMS of xyxy boxes{' + score voting' if voting else ''} (LD repo)."
    return fn


def _cluster_diounms_rotated(voting: bool) -> Callable:
    def fn(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float = 0.1, angle_version: str = 'le90',
           beta: float = 0.8, vote_threshold: float = 0.7, sigma: float = 0.025, max_candidates: int = 1000,
           max_num: int = -1) -> tuple[Tensor, Tensor, Tensor]:
        dets, keep = voting_cluster_diounms_rotated(
            boxes, scores, idxs, iou_threshold, angle_version=angle_version, beta=beta,
            vote_threshold=vote_threshold, sigma=sigma, voting=voting, max_candidates=max_candidates, max_num=max_num)
        return dets[:, :5], dets[:, 5], keep
    fn.__doc__ = f"Rotated Cluster-DIoU-NMS of rboxes{' + score voting' if voting else ''}."
    return fn


register_nms('cluster_diounms')(_cluster_diounms(voting=False))
register_nms('voting_cluster_diounms')(_cluster_diounms(voting=True))
register_nms('cluster_diounms_rotated')(_cluster_diounms_rotated(voting=False))
register_nms('voting_cluster_diounms_rotated')(_cluster_diounms_rotated(voting=True))


def get_nms(nms_cfg: dict) -> NmsFn:
    """Resolve ``nms_cfg`` to ``fn(boxes, scores, idxs) -> (boxes, scores, keep)``.

    Raises:
        ValueError: unknown ``type`` or an option the chosen type does not take (both named).
    """
    cfg = dict(nms_cfg)
    name = cfg.pop('type', 'nms')
    if 'iou_thr' in cfg:  # the mmdet 2.x / mmrotate 0.x spelling
        cfg['iou_threshold'] = cfg.pop('iou_thr')
    if name not in _NMS:
        raise ValueError(f'nms type={name!r}; expected one of {sorted(_NMS)}')
    fn = _NMS[name]
    params = inspect.signature(fn).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        valid = [p for p in params if p not in ('boxes', 'scores', 'idxs')]
        unknown = sorted(set(cfg) - set(valid))
        if unknown:
            raise ValueError(f'unknown options {unknown} for nms type {name!r}; valid: {valid}')
    return lambda boxes, scores, idxs: fn(boxes, scores, idxs, **cfg)


def multiclass_nms(boxes: Tensor, scores: Tensor, labels: Tensor, nms_cfg: dict,
                   max_per_img: int = -1) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Run the configured NMS and truncate.

    Args:
        boxes: (N, 4) xyxy or (N, 5) rboxes; scores: (N,); labels: (N,) long.
        nms_cfg: ``dict(type='nms', iou_threshold=0.6, ...)`` (types: module docstring).
        max_per_img: keep at most this many (-1: all).

    Returns:
        boxes (K, 4|5), scores (K,), labels (K,), keep (K,) input rows; sorted by score desc.
    """
    fn = get_nms(nms_cfg)  # resolved first so a typo fails even on empty inputs
    if boxes.numel() == 0:
        return boxes, scores, labels, boxes.new_zeros((0,), dtype=torch.long)
    out_boxes, out_scores, keep = fn(boxes, scores, labels)
    if max_per_img > 0:
        out_boxes, out_scores, keep = out_boxes[:max_per_img], out_scores[:max_per_img], keep[:max_per_img]
    return out_boxes, out_scores, labels[keep], keep
