"""Pluggable class-aware NMS used by the heads' ``predict_by_feat``.

``test_cfg.nms = dict(type=NAME, iou_threshold=..., **kw)`` selects the implementation:

1. ``'nms'`` (and anything added with :func:`register_nms`): registered here; ``'nms'`` is torchvision
   ``batched_nms`` (greedy, per class).
2. otherwise ``rotated_ld.ops.build_nms(cfg)`` (``rotated_ld/ops/voting_nms.py``: ``'cluster_diounms'``,
   ``'voting_cluster_diounms'``), which returns ``fn(boxes, scores, idxs) -> (boxes, scores, keep)``.

A function registered with :func:`register_nms` has the signature
``fn(boxes (N, 4) xyxy, scores (N,), idxs (N,) long, **kwargs) -> (boxes (K, 4), scores (K,), keep (K,))``
sorted by score descending (boxes may be refined, e.g. by voting).

Rotated heads (:class:`RotatedGFLHead`, :class:`RotatedRetinaHead` and their LD students) use
``'nms_rotated'`` (greedy, class-wise, the default) or ``'rotated_voting_nms'`` (greedy rotated NMS +
rotated score voting, ``rotated_ld/ops/rotated_voting_nms.py``), both registered here, e.g.
``nms=dict(type='rotated_voting_nms', iou_threshold=0.1, voting_thr=0.01, sigma=0.025)``.
"""
from __future__ import annotations

import importlib
from typing import Callable

import torch
from torch import Tensor
from torchvision.ops import batched_nms as _tv_batched_nms

_NMS: dict[str, Callable] = {}


def register_nms(name: str) -> Callable:
    """Decorator: make ``fn`` selectable as ``test_cfg.nms.type=name``."""
    def deco(fn):
        _NMS[name] = fn
        return fn
    return deco


@register_nms('nms')
def torchvision_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float = 0.5,
                    class_agnostic: bool = False) -> tuple[Tensor, Tensor, Tensor]:
    """Greedy per-class NMS (torchvision ``batched_nms``) → ``(boxes, scores, keep)``."""
    if class_agnostic:
        idxs = torch.zeros_like(idxs)
    keep = _tv_batched_nms(boxes.float(), scores.float(), idxs, iou_threshold)
    return boxes[keep], scores[keep], keep


@register_nms('nms_rotated')
def nms_rotated_by_class(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float = 0.1,
                         class_agnostic: bool = False) -> tuple[Tensor, Tensor, Tensor]:
    """Class-wise rotated NMS in the heads' NMS contract (``rotated_ld.models.utils.nms``).

    rboxes (N, 5), scores (N,), class ids (N,) → ``(boxes (K, 5), scores (K,), keep (K,))`` by score.
    """
    from rotated_ld.ops import batched_nms_rotated

    if class_agnostic:
        idxs = torch.zeros_like(idxs)
    keep = batched_nms_rotated(boxes.float(), scores.float(), idxs, iou_threshold)
    return boxes[keep], scores[keep], keep


@register_nms('rotated_voting_nms')
def rotated_voting_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float = 0.1,
                       **kwargs) -> tuple[Tensor, Tensor, Tensor]:
    """Greedy class-wise rotated NMS + rotated score voting → ``(boxes (K, 5), scores, keep)``.

    ``kwargs``: ``voting_thr`` (0.01), ``sigma`` (0.025; ``None`` = plain score weights),
    ``voting`` (True), ``angle_version`` (None: the kept boxes' representation), ``class_agnostic``.
    """
    from rotated_ld.ops.rotated_voting_nms import rotated_voting_nms as _voting

    allowed = {'voting_thr', 'sigma', 'voting', 'angle_version', 'class_agnostic'}
    if set(kwargs) - allowed:
        raise ValueError(f"unknown options {sorted(set(kwargs) - allowed)} for nms type 'rotated_voting_nms'; "
                         f'valid: {sorted(allowed)}')
    return _voting(boxes, scores, idxs, iou_threshold, **kwargs)


def get_nms(nms_cfg: dict) -> Callable:
    """Resolve ``nms_cfg`` to ``fn(boxes, scores, idxs) -> (boxes, scores, keep)``."""
    cfg = dict(nms_cfg)
    name = cfg.pop('type', 'nms')
    if 'iou_thr' in cfg:  # the mmdet 2.x / mmrotate 0.x spelling
        cfg['iou_threshold'] = cfg.pop('iou_thr')
    if name in _NMS:
        fn = _NMS[name]
        return lambda boxes, scores, idxs: fn(boxes, scores, idxs, **cfg)
    ops = importlib.import_module('rotated_ld.ops')
    if hasattr(ops, 'build_nms'):
        return ops.build_nms(dict(nms_cfg))
    raise KeyError(f'unknown nms type {name!r}; registered here: {sorted(_NMS)}')


def multiclass_nms(boxes: Tensor, scores: Tensor, labels: Tensor, nms_cfg: dict,
                   max_per_img: int = -1) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Run the configured NMS and truncate.

    Args:
        boxes: (N, 4) xyxy; scores: (N,); labels: (N,) long.
        nms_cfg: ``dict(type='nms', iou_threshold=0.6, ...)``.
        max_per_img: keep at most this many (-1: all).

    Returns:
        boxes (K, 4), scores (K,), labels (K,), keep (K,) input rows; sorted by score desc.
    """
    fn = get_nms(nms_cfg)  # resolved first so a typo fails even on empty inputs
    if boxes.numel() == 0:
        return boxes, scores, labels, boxes.new_zeros((0,), dtype=torch.long)
    out_boxes, out_scores, keep = fn(boxes, scores, labels)
    if max_per_img > 0:
        out_boxes, out_scores, keep = out_boxes[:max_per_img], out_scores[:max_per_img], keep[:max_per_img]
    return out_boxes, out_scores, labels[keep], keep
