"""Pluggable class-aware NMS used by the heads' ``predict_by_feat``.

``test_cfg.nms = dict(type=NAME, iou_threshold=..., **kw)`` selects the function. The lookup order:
1. functions registered here with :func:`register_nms` (built-in ``'nms'`` = torchvision
   ``batched_nms``);
2. a callable attribute ``NAME`` of :mod:`rotated_ld.ops` (e.g. ``voting_cluster_diounms`` from
   ``rotated_ld/ops/voting_nms.py``, exported by ``rotated_ld/ops/__init__.py``);
3. ``FUNCTIONS`` registry of ``rotated_ld.registry``.

Contract of an NMS function::

    fn(boxes (N, 4) xyxy, scores (N,), idxs (N,) long class ids, **kwargs) -> (dets, keep)
       dets (K, 5) = refined boxes + score, sorted by score desc; keep (K,) long rows of the input

A function may also return just ``keep``; then ``dets = cat(boxes[keep], scores[keep])``.
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
                    class_agnostic: bool = False) -> tuple[Tensor, Tensor]:
    """Greedy per-class NMS (torchvision ``batched_nms``); returns ``(dets (K, 5), keep (K,))``."""
    if class_agnostic:
        idxs = torch.zeros_like(idxs)
    keep = _tv_batched_nms(boxes.float(), scores.float(), idxs, iou_threshold)
    return torch.cat([boxes[keep], scores[keep, None]], dim=1), keep


def get_nms(name: str) -> Callable:
    """Resolve an NMS type name (see module docstring); raises KeyError naming what exists."""
    if name in _NMS:
        return _NMS[name]
    ops = importlib.import_module('rotated_ld.ops')
    fn = getattr(ops, name, None)
    if callable(fn):
        return fn
    from rotated_ld.registry import FUNCTIONS
    fn = FUNCTIONS.get(name)
    if fn is not None:
        return fn
    raise KeyError(f'unknown nms type {name!r}; registered: {sorted(_NMS)}, or a callable in '
                   f'rotated_ld.ops / the FUNCTIONS registry')


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
    cfg = dict(nms_cfg)
    fn = get_nms(cfg.pop('type', 'nms'))
    if boxes.numel() == 0:
        keep = boxes.new_zeros((0,), dtype=torch.long)
        return boxes, scores, labels, keep
    out = fn(boxes, scores, labels, **cfg)
    if isinstance(out, Tensor):
        keep = out
        dets = torch.cat([boxes[keep], scores[keep, None]], dim=1)
    else:
        dets, keep = out[0], out[1]
    if max_per_img > 0:
        dets, keep = dets[:max_per_img], keep[:max_per_img]
    return dets[:, :-1], dets[:, -1], labels[keep], keep
