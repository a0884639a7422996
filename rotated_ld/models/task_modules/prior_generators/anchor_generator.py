"""RetinaNet anchors (mmdet ``AnchorGenerator``), horizontal xyxy or as angle-0 rboxes.

Per level with stride ``s``: base size ``s``; scales ``octave_base_scale · 2^(i/scales_per_octave)``,
``i = 0..scales_per_octave−1``; for ratio ``r = h/w``: ``h = s·scale·√r``, ``w = s·scale/√r``.
Anchor order inside a location is ratio-major (mmdet ``scale_major=True``: all scales of the
first ratio, then the next ratio), locations row-major — the order a head's
``(B, A·C, H, W)`` output has after ``permute(0, 2, 3, 1).reshape(B, H·W·A, C)``. Centres are
at ``(x·s + center_offset·s, y·s + center_offset·s)`` (offset 0 as mmdet/mmrotate).

Rotated RetinaNet (mmrotate, Rotated-LD, JDet): ``octave_base_scale=4``, ``scales_per_octave=3``,
``ratios=(1.0, 0.5, 2.0)``, strides ``(8, 16, 32, 64, 128)`` → 9 anchors per location;
:class:`RotatedAnchorGenerator` returns them as ``(cx, cy, w, h, 0)``.
All anchors are kept (``allowed_border = −1`` in every reference config), so there are no
valid flags.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from rotated_ld.registry import TASK_UTILS


@TASK_UTILS.register_module()
class AnchorGenerator:
    """Multi-level horizontal anchors (see module docstring).

    Args:
        strides (Sequence[int]): stride per level.
        ratios (Sequence[float]): ``h / w`` ratios. Default ``(1.0, 0.5, 2.0)``.
        octave_base_scale (float): base scale. Default 4.
        scales_per_octave (int): scales per octave. Default 3.
        scales (Sequence[float] | None): explicit scales instead of the octave rule.
        center_offset (float): centre offset in units of the stride. Default 0.

    Example:
        >>> gen = AnchorGenerator(strides=(8, 16))
        >>> [a.shape for a in gen.grid_priors([(2, 3), (1, 2)])]
        [torch.Size([54, 4]), torch.Size([18, 4])]
    """

    box_dim = 4

    def __init__(self, strides: Sequence[int], ratios: Sequence[float] = (1.0, 0.5, 2.0),
                 octave_base_scale: float | None = 4, scales_per_octave: int | None = 3,
                 scales: Sequence[float] | None = None, center_offset: float = 0.0) -> None:
        self.strides = [int(s) if not isinstance(s, (tuple, list)) else int(s[0]) for s in strides]
        self.ratios = [float(r) for r in ratios]
        if scales is None:
            if octave_base_scale is None or scales_per_octave is None:
                raise ValueError('give either scales or octave_base_scale and scales_per_octave')
            scales = [octave_base_scale * 2 ** (i / scales_per_octave) for i in range(scales_per_octave)]
        self.scales = [float(s) for s in scales]
        self.center_offset = float(center_offset)

    @property
    def num_levels(self) -> int:
        return len(self.strides)

    @property
    def num_base_priors(self) -> list[int]:
        """Anchors per location on each level."""
        return [len(self.ratios) * len(self.scales)] * self.num_levels

    def base_wh(self, level: int) -> Tensor:
        """(A, 2) anchor widths and heights of one level, ratio-major."""
        s = self.strides[level]
        h_ratios = torch.tensor(self.ratios, dtype=torch.float64).sqrt()
        scales = torch.tensor(self.scales, dtype=torch.float64)
        ws = (s / h_ratios[:, None] * scales[None, :]).reshape(-1)
        hs = (s * h_ratios[:, None] * scales[None, :]).reshape(-1)
        return torch.stack([ws, hs], -1).float()

    def _level_cxcywh(self, featmap_size: Sequence[int], level: int, device, dtype) -> Tensor:
        h, w = int(featmap_size[0]), int(featmap_size[1])
        s = self.strides[level]
        xs = torch.arange(w, device=device, dtype=dtype) * s + self.center_offset * s
        ys = torch.arange(h, device=device, dtype=dtype) * s + self.center_offset * s
        yy, xx = torch.meshgrid(ys, xs, indexing='ij')
        ctr = torch.stack([xx.reshape(-1), yy.reshape(-1)], -1)  # (H·W, 2) row-major
        wh = self.base_wh(level).to(device=device, dtype=dtype)  # (A, 2)
        n, a = ctr.shape[0], wh.shape[0]
        return torch.cat([ctr[:, None].expand(n, a, 2), wh[None].expand(n, a, 2)], -1).reshape(-1, 4)

    def single_level_grid_priors(self, featmap_size: Sequence[int], level_idx: int,
                                 dtype=torch.float32, device='cpu') -> Tensor:
        """(H·W·A, 4) xyxy anchors of one level."""
        c = self._level_cxcywh(featmap_size, level_idx, device, dtype)
        return torch.cat([c[:, :2] - c[:, 2:] / 2, c[:, :2] + c[:, 2:] / 2], -1)

    def grid_priors(self, featmap_sizes: Sequence[Sequence[int]], dtype=torch.float32,
                    device='cpu') -> list[Tensor]:
        """Anchors of every level: list of (H_l·W_l·A, box_dim)."""
        if len(featmap_sizes) != self.num_levels:
            raise ValueError(f'{len(featmap_sizes)} feature maps for {self.num_levels} strides')
        return [self.single_level_grid_priors(fs, i, dtype=dtype, device=device)
                for i, fs in enumerate(featmap_sizes)]

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(strides={self.strides}, ratios={self.ratios}, '
                f'scales={[round(s, 4) for s in self.scales]}, center_offset={self.center_offset})')


@TASK_UTILS.register_module()
class RotatedAnchorGenerator(AnchorGenerator):
    """:class:`AnchorGenerator` whose anchors are ``(cx, cy, w, h, 0)`` rboxes (mmrotate name)."""

    box_dim = 5

    def single_level_grid_priors(self, featmap_size: Sequence[int], level_idx: int,
                                 dtype=torch.float32, device='cpu') -> Tensor:
        """(H·W·A, 5) horizontal rbox anchors of one level (angle 0)."""
        c = self._level_cxcywh(featmap_size, level_idx, device, dtype)
        return torch.cat([c, c.new_zeros((c.shape[0], 1))], -1)


def anchor_sides(stride: int, octave_base_scale: float = 4, scales_per_octave: int = 3) -> list[float]:
    """Square-anchor sides of one level (ratio 1), e.g. stride 8 → ``[32, 40.3, 50.8]``."""
    return [stride * octave_base_scale * 2 ** (i / scales_per_octave) for i in range(scales_per_octave)]


__all__ = ['AnchorGenerator', 'RotatedAnchorGenerator', 'anchor_sides']
