"""Feature-imitation loss (``IMLoss``) of the LD imitation baselines: ``λ · mean((F_S − F_T)²)``.

Student and teacher FPN features of the selected locations, no adaptation layer (as HikariTJU/LD;
both FPNs have 256 channels). The teacher side is detached; computed in fp32.
"""
from __future__ import annotations

from torch import Tensor

from rotated_ld.registry import MODELS

from .utils import ReducedLoss


@MODELS.register_module()
class IMLoss(ReducedLoss):
    """Mean squared error between student and (detached) teacher features.

    Args:
        reduction (str): ``'mean'`` (reference: over rows × channels), ``'sum'`` or ``'none'``.
        loss_weight (float): λ_IM (2.0 in the LD README configs).
    """

    def forward(self, pred: Tensor, target: Tensor, weight: Tensor | None = None,
                avg_factor: float | Tensor | None = None,
                reduction_override: str | None = None) -> Tensor:
        """Args: pred (M, Cf) student features; target (M, Cf) teacher features; weight (M, Cf)
        or broadcastable. Empty input gives ``pred.sum() * 0``."""
        if pred.shape != target.shape:
            raise ValueError(f'student/teacher feature shapes differ: {tuple(pred.shape)} vs '
                             f'{tuple(target.shape)} (no adaptation layer: channels must match)')
        if pred.numel() == 0:
            return pred.sum() * 0
        loss = (pred.float() - target.detach().float()) ** 2
        return self.reduce(loss, weight, avg_factor, reduction_override)
