"""Deltas as discrete distributions on fixed supports (Rotated-LD / JDet ``ld_rotated_retinanet``).

Each of the ``D`` deltas (5 for ``(dx, dy, dw, dh, da)``) is predicted as ``R = reg_max + 1``
logits; its value is the expectation ``Σ_k softmax(z)_k · s_k`` over a fixed support
``s = linspace(lo, hi, R)``. The references use ``reg_max = 8`` and the supports ``[-2, 2]`` for
``dx, dy, dw, dh`` and ``[-5, 2]`` for ``da`` (asymmetric and *not* periodic: the angle delta is
a plain number here; the angle-aware circular variant is ``angle_coder.CircularAngleCoder``).

Logit layout: ``(..., D·R)`` delta-major blocks of ``R`` bins (dx bins, dy bins, …, da bins),
the order both teacher and student must share for LD.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rotated_ld.registry import TASK_UTILS

DEFAULT_RANGES = ((-2., 2.), (-2., 2.), (-2., 2.), (-2., 2.), (-5., 2.))


@TASK_UTILS.register_module()
class DistributionDelta(nn.Module):
    """Expectation of per-delta distributions over fixed supports.

    Args:
        reg_max (int): number of bins minus one (``R = reg_max + 1``). Default 8.
        ranges (Sequence[tuple[float, float]]): ``(lo, hi)`` support per delta. Default
            ``((-2, 2),)*4 + ((-5, 2),)`` (dx, dy, dw, dh, da).

    Example:
        >>> dd = DistributionDelta()
        >>> dd(torch.zeros(3, 45)).shape  # uniform logits → midpoints of the supports
        torch.Size([3, 5])
    """

    def __init__(self, reg_max: int = 8,
                 ranges: Sequence[Sequence[float]] = DEFAULT_RANGES) -> None:
        super().__init__()
        self.reg_max = int(reg_max)
        self.ranges = tuple((float(lo), float(hi)) for lo, hi in ranges)
        if any(hi <= lo for lo, hi in self.ranges):
            raise ValueError(f'each range must have lo < hi, got {self.ranges}')
        supports = torch.stack([torch.linspace(lo, hi, self.reg_max + 1) for lo, hi in self.ranges])
        # not saved: a function of the config, so checkpoints stay head-shape only
        self.register_buffer('supports', supports, persistent=False)

    @property
    def num_deltas(self) -> int:
        return len(self.ranges)

    @property
    def num_bins(self) -> int:
        return self.reg_max + 1

    def forward(self, logits: Tensor) -> Tensor:
        """``(..., D·R)`` logits → ``(..., D)`` expected deltas (computed in fp32)."""
        shape = logits.shape[:-1]
        z = logits.float().reshape(*shape, self.num_deltas, self.num_bins)
        return (F.softmax(z, dim=-1) * self.supports.to(z.device)).sum(-1)

    def rows(self, logits: Tensor) -> Tensor:
        """``(..., D·R)`` logits → ``(..., D, R)`` rows, one distribution per delta (for LD)."""
        return logits.reshape(*logits.shape[:-1], self.num_deltas, self.num_bins)

    def extra_repr(self) -> str:
        return f'reg_max={self.reg_max}, ranges={self.ranges}'
