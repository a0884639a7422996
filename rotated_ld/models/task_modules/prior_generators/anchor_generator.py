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

Two ways to make the rotated anchors (``RotatedAnchorGenerator(compat=...)``):

* ``compat=None`` (default, **exact**): sizes in float64 then cast, centres ``x·s`` exactly, every
  anchor ``(cx, cy, w, h, 0)`` with ``w == h`` bit-for-bit for ratio 1. Use it for models trained
  here: the anchors are the same at every location, so the regression a model learns does not
  depend on where an object lies.
* ``compat='mmrotate0'`` / ``'mmrotate1'``: the anchors of an mmrotate model, float32 rounding
  included (:mod:`..mmrotate_compat`): mmdet float32 xyxy anchors → ``(cx, cy, x2−x1, y2−y1, 0)``
  (0.x ``RotatedAnchorGenerator``); ``'mmrotate1'`` then regularises them with ``angle_version``
  as 1.x ``FakeRotatedAnchorGenerator(angle_version)`` does — with ``le90``, a ratio-1 anchor
  whose float32 ``x2 − x1`` exceeds ``y2 − y1`` keeps angle 0, every other ratio-1 or ratio-2
  anchor becomes ``(h, w, −π/2)``. Needed to reproduce an imported mmrotate checkpoint's
  detections; ``tools/model_converters/import_weights.py`` writes a config that selects it.
  ``FakeRotatedAnchorGenerator`` (the mmrotate 1.x name) is this generator with ``compat='mmrotate1'``.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from rotated_ld.registry import TASK_UTILS

from ..mmrotate_compat import (
    check_compat,
    mmdet_base_anchors,
    mmdet_grid_anchors_xyxy,
    mmdet_scales,
    mmrotate_hbox2rbox,
    mmrotate_regularize_boxes,
)


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
    """:class:`AnchorGenerator` whose anchors are ``(cx, cy, w, h, t)`` rboxes (mmrotate name).

    Args:
        compat (str | None): ``None`` exact anchors at angle 0 (default, models trained here);
            ``'mmrotate0'`` mmrotate 0.x float32 anchors (angle 0); ``'mmrotate1'`` mmrotate 1.x
            ``FakeRotatedAnchorGenerator`` anchors, regularised with ``angle_version`` (module
            docstring).
        angle_version (str | None): ``'mmrotate1'`` only: the 1.x generator's ``angle_version``
            (``'le90'`` in 1.x configs; ``None`` leaves the anchors at angle 0).
        **kwargs: :class:`AnchorGenerator` arguments.

    Example:
        >>> gen = RotatedAnchorGenerator(strides=[8], compat='mmrotate1', angle_version='le90')
        >>> gen.grid_priors([(1, 1)])[0][:, 4].tolist()[3:6]  # ratio 0.5 (w > h): kept
        [0.0, 0.0, 0.0]
    """

    box_dim = 5

    def __init__(self, *args, compat: str | None = None, angle_version: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.compat = check_compat(compat)
        if angle_version is not None and compat != 'mmrotate1':
            raise ValueError(f"angle_version={angle_version!r} regularises anchors only with compat='mmrotate1' "
                             f'(got compat={compat!r}); exact and mmrotate 0.x anchors are at angle 0')
        if angle_version not in (None, 'oc', 'le90', 'le135'):
            raise ValueError(f"angle_version={angle_version!r}; expected None, 'oc', 'le90' or 'le135'")
        self.angle_version = angle_version
        if self.compat is not None:
            scales = mmdet_scales(None, None, self.scales)  # self.scales: float64 octave products
            self._mmdet_base = [mmdet_base_anchors(s, scales, self.ratios, self.center_offset) for s in self.strides]

    def single_level_grid_priors(self, featmap_size: Sequence[int], level_idx: int,
                                 dtype=torch.float32, device='cpu') -> Tensor:
        """(H·W·A, 5) rbox anchors of one level (angle 0, or mmrotate 1.x's regularised angles)."""
        if self.compat is None:
            c = self._level_cxcywh(featmap_size, level_idx, device, dtype)
            return torch.cat([c, c.new_zeros((c.shape[0], 1))], -1)
        xyxy = mmdet_grid_anchors_xyxy(self._mmdet_base[level_idx], featmap_size, self.strides[level_idx],
                                       dtype=dtype, device=device)
        rboxes = mmrotate_hbox2rbox(xyxy)
        if self.compat == 'mmrotate1' and self.angle_version is not None:
            rboxes = mmrotate_regularize_boxes(rboxes, self.angle_version)
        return rboxes

    def __repr__(self) -> str:
        extra = '' if self.compat is None else f', compat={self.compat!r}, angle_version={self.angle_version!r}'
        return super().__repr__()[:-1] + extra + ')'


@TASK_UTILS.register_module()
class FakeRotatedAnchorGenerator(RotatedAnchorGenerator):
    """mmrotate 1.x name: :class:`RotatedAnchorGenerator` with ``compat='mmrotate1'``, so a 1.x
    config's ``anchor_generator=dict(type='FakeRotatedAnchorGenerator', angle_version='le90', ...)``
    builds 1.x's anchors (``angle_version=None``: angle 0, as 1.x)."""

    def __init__(self, *args, angle_version: str | None = None, **kwargs) -> None:
        kwargs.setdefault('compat', 'mmrotate1')
        super().__init__(*args, angle_version=angle_version, **kwargs)


def anchor_sides(stride: int, octave_base_scale: float = 4, scales_per_octave: int = 3) -> list[float]:
    """Square-anchor sides of one level (ratio 1), e.g. stride 8 → ``[32, 40.3, 50.8]``."""
    return [stride * octave_base_scale * 2 ** (i / scales_per_octave) for i in range(scales_per_octave)]


__all__ = ['AnchorGenerator', 'RotatedAnchorGenerator', 'FakeRotatedAnchorGenerator', 'anchor_sides']
