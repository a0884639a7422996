"""Small helpers shared by heads and detectors."""
from __future__ import annotations

from typing import Sequence

import torch
import torch.distributed as dist
from mmengine.structures import InstanceData
from torch import Tensor


def reduce_mean(tensor: Tensor) -> Tensor:
    """Mean of ``tensor`` over all ranks (identity when not distributed). Not in-place."""
    if not (dist.is_available() and dist.is_initialized()):
        return tensor
    tensor = tensor.clone()
    dist.all_reduce(tensor.div_(dist.get_world_size()), op=dist.ReduceOp.SUM)
    return tensor


def unpack_gt_instances(batch_data_samples: Sequence) -> tuple[list, list, list]:
    """Split data samples into ``(batch_gt_instances, batch_img_metas, batch_gt_instances_ignore)``.

    ``batch_gt_instances_ignore[i]`` is the sample's ``ignored_instances`` or ``None``.
    """
    gts, metas, ignores = [], [], []
    for s in batch_data_samples:
        metas.append(s.metainfo)
        gts.append(s.gt_instances)
        ignores.append(s.ignored_instances if 'ignored_instances' in s else None)
    return gts, metas, ignores


def flatten_levels(preds: Sequence[Tensor]) -> Tensor:
    """Per-level ``(B, K, H, W)`` maps → one ``(B, Σ H·W, K)`` tensor (level-major, then row-major)."""
    return torch.cat([p.permute(0, 2, 3, 1).reshape(p.shape[0], -1, p.shape[1]) for p in preds], dim=1)


def filter_scores_and_topk(scores: Tensor, score_thr: float, topk: int) -> tuple[Tensor, Tensor, Tensor]:
    """Keep (location, class) pairs with score > thr, then the ``topk`` best (mmdet semantics).

    Args:
        scores: (N, C) class scores of N locations.

    Returns:
        scores (K,), labels (K,), keep_idxs (K,) location indices, sorted by score desc.
    """
    valid = scores > score_thr
    flat = scores[valid]
    idxs = valid.nonzero()
    num = min(topk, idxs.size(0)) if topk > 0 else idxs.size(0)
    flat, order = flat.sort(descending=True)
    flat, idxs = flat[:num], idxs[order[:num]]
    return flat, idxs[:, 1], idxs[:, 0]


def empty_instances(box_dim: int, device, dtype=torch.float32) -> InstanceData:
    """An ``InstanceData`` with zero predictions of the right shapes."""
    res = InstanceData()
    res.bboxes = torch.zeros((0, box_dim), device=device, dtype=dtype)
    res.scores = torch.zeros((0,), device=device, dtype=dtype)
    res.labels = torch.zeros((0,), device=device, dtype=torch.long)
    return res
