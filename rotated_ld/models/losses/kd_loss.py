"""Knowledge-distillation KL loss used by LD (box distributions) and KD (class logits).

``loss = loss_weight · reduce(w_r · T² · KL(softmax(t_r/T) ‖ softmax(s_r/T)))`` over rows ``r``.
Registered under the mmdet name ``KnowledgeDistillationKLDivLoss`` (so mmdet LD configs carry
over) and the short alias ``KDLoss``. The maths lives in
:func:`rotated_ld.models.distillers.functional.distribution_kl` (fp32, teacher detached).

Differences from mmdet: ``bin_reduction`` (``'mean'`` reproduces mmdet/HikariTJU, whose KL is
averaged over the K bins — a 1/K factor the published weights were tuned with; ``'sum'`` is the
true KL, use ``loss_weight / K`` to match) and the fp32 cast.
"""
from __future__ import annotations

from torch import Tensor, nn

from rotated_ld.registry import MODELS

from ..distillers.functional import BIN_REDUCTIONS, distribution_kl, weighted_reduce


@MODELS.register_module('KDLoss')
@MODELS.register_module()
class KnowledgeDistillationKLDivLoss(nn.Module):
    """Temperature-softened KL divergence between teacher and student logits.

    Args:
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'`` over rows.
        loss_weight (float): multiplier of the loss.
        T (float): temperature (10 for LD edges, 2 for KD classes in the reference).
        bin_reduction (str): ``'mean'`` (reference, 1/K) or ``'sum'`` (true KL) over the K logits.

    Example:
        >>> loss = KnowledgeDistillationKLDivLoss(loss_weight=0.25, T=10)
        >>> s, t = torch.randn(8, 17), torch.randn(8, 17)
        >>> loss(s, t, avg_factor=4.0).shape
        torch.Size([])
    """

    def __init__(self, reduction: str = 'mean', loss_weight: float = 1.0, T: float = 10.0,
                 bin_reduction: str = 'mean') -> None:
        super().__init__()
        if T < 1:
            # mmdet asserts T >= 1 as well; a T < 1 sharpens instead of softening
            raise ValueError(f'T={T!r}; expected a temperature >= 1')
        self.reduction = reduction
        self.loss_weight = float(loss_weight)
        self.T = float(T)
        self.bin_reduction = bin_reduction
        if bin_reduction not in BIN_REDUCTIONS:
            raise ValueError(f'bin_reduction={bin_reduction!r}; expected one of {BIN_REDUCTIONS}')

    def forward(self, pred: Tensor, soft_label: Tensor, weight: Tensor | None = None,
                avg_factor: float | Tensor | None = None,
                reduction_override: str | None = None) -> Tensor:
        """Args: pred (R, K) student logits; soft_label (R, K) teacher logits; weight (R,).

        Returns: scalar, or (R,) with ``reduction='none'`` — fp32.
        """
        reduction = reduction_override or self.reduction
        loss = distribution_kl(pred, soft_label, T=self.T, bin_reduction=self.bin_reduction)
        return self.loss_weight * weighted_reduce(loss, weight, reduction, avg_factor)

    def extra_repr(self) -> str:
        return (f'loss_weight={self.loss_weight}, T={self.T}, '
                f'bin_reduction={self.bin_reduction!r}, reduction={self.reduction!r}')

