"""Multi-level point priors: one location per feature-map cell, with its stride."""
from __future__ import annotations

from typing import Sequence, Union

import torch
from torch import Tensor

from rotated_ld.registry import TASK_UTILS


@TASK_UTILS.register_module()
class MlvlPointGenerator:
    """Grid points of every FPN level.

    Args:
        strides: per-level stride (int or (sw, sh)).
        offset: cell offset of the point; ``0.0`` puts points at ``(x·s, y·s)`` as mmdet's
            ``AnchorGenerator`` (``center_offset=0``) that GFL uses — keep 0 to reproduce mmdet GFL
            checkpoints; ``0.5`` is the cell centre (FCOS).

    ``grid_priors(featmap_sizes)`` → list of ``(H_l·W_l, 4)`` = ``(x, y, stride_w, stride_h)`` in
    pixels, row-major (y outer, x inner), matching ``permute(0, 2, 3, 1).reshape(B, -1, K)``.
    """

    def __init__(self, strides: Sequence[Union[int, Sequence[int]]], offset: float = 0.0):
        self.strides = [tuple(s) if isinstance(s, (list, tuple)) else (s, s) for s in strides]
        self.offset = offset

    @property
    def num_levels(self) -> int:
        return len(self.strides)

    @property
    def num_base_priors(self) -> list[int]:
        return [1] * self.num_levels

    def single_level_grid_priors(self, featmap_size: Sequence[int], level: int, dtype=torch.float32,
                                 device='cpu') -> Tensor:
        """``(H·W, 4)`` priors ``(x, y, sw, sh)`` of one level."""
        h, w = int(featmap_size[0]), int(featmap_size[1])
        sw, sh = self.strides[level]
        xs = (torch.arange(w, device=device, dtype=torch.float32) + self.offset) * sw
        ys = (torch.arange(h, device=device, dtype=torch.float32) + self.offset) * sh
        yy, xx = torch.meshgrid(ys, xs, indexing='ij')
        pri = torch.stack([xx.reshape(-1), yy.reshape(-1), xx.new_full((h * w,), sw),
                           xx.new_full((h * w,), sh)], dim=1)
        return pri.to(dtype)

    def grid_priors(self, featmap_sizes: Sequence[Sequence[int]], dtype=torch.float32,
                    device='cpu') -> list[Tensor]:
        if len(featmap_sizes) != self.num_levels:
            raise ValueError(f'{len(featmap_sizes)} feature maps for {self.num_levels} strides')
        return [self.single_level_grid_priors(s, i, dtype, device) for i, s in enumerate(featmap_sizes)]
