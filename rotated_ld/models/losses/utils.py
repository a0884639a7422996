"""The one loss reduction of the project (mmdet ``weight_reduce_loss`` semantics).

Every loss module (focal, QFL, DFL, IoU, rotated IoU, Gaussian, KD-KL, imitation) reduces through
:func:`weight_reduce_loss`: element-wise ``weight``, then ``'none'`` / ``'sum'`` / ``'mean'``; with an
``avg_factor`` ``'mean'`` is ``loss.sum() / (avg_factor + eps)`` with ``eps = finfo(float32).eps``
(mmdet's guard for an empty batch's ``avg_factor = 0``) and ``'sum'`` is an error (as mmdet).
"""
from __future__ import annotations

from typing import Optional, Union

import torch
from torch import Tensor, nn

REDUCTIONS = ('none', 'mean', 'sum')
AVG_EPS = torch.finfo(torch.float32).eps


def weight_reduce_loss(loss: Tensor, weight: Optional[Tensor] = None, reduction: str = 'mean',
                       avg_factor: Optional[Union[float, Tensor]] = None) -> Tensor:
    """Apply an element-wise ``weight`` then reduce.

    Args:
        loss (Tensor): element-wise loss, any shape.
        weight (Tensor, optional): broadcastable to ``loss``.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``.
        avg_factor (float | Tensor, optional): divisor of ``'mean'`` instead of the element count.

    Returns:
        Tensor: scalar, or the weighted element-wise loss for ``'none'``. ``'mean'`` of an empty
        loss without ``avg_factor`` is 0 (not NaN).
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f'reduction={reduction!r}; expected one of {REDUCTIONS}')
    if weight is not None:
        loss = loss * weight.to(loss.dtype)
    if avg_factor is None:
        if reduction == 'mean':
            return loss.mean() if loss.numel() else loss.sum()
        return loss.sum() if reduction == 'sum' else loss
    if reduction == 'mean':
        return loss.sum() / (avg_factor + AVG_EPS)
    if reduction == 'none':
        return loss
    raise ValueError('avg_factor can not be used with reduction="sum"')


class ReducedLoss(nn.Module):
    """Base of the element-wise losses (``L1Loss``, ``IMLoss``): holds ``reduction`` and
    ``loss_weight`` and reduces through :func:`weight_reduce_loss`, so the config interface
    (``reduction``, ``loss_weight``; ``weight``, ``avg_factor``, ``reduction_override`` at call
    time) is written once.

    Args:
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default ``'mean'``.
        loss_weight (float): multiplier. Default 1.
    """

    def __init__(self, reduction: str = 'mean', loss_weight: float = 1.0) -> None:
        super().__init__()
        self.reduction = reduction
        self.loss_weight = float(loss_weight)

    def reduce(self, loss: Tensor, weight: Optional[Tensor] = None,
               avg_factor: Optional[Union[float, Tensor]] = None,
               reduction_override: Optional[str] = None) -> Tensor:
        """``loss_weight · weight_reduce_loss(loss, weight, reduction_override or reduction, avg_factor)``."""
        return self.loss_weight * weight_reduce_loss(loss, weight, reduction_override or self.reduction,
                                                     avg_factor)
