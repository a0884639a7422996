"""The one loss reduction of the project (mmdet ``weight_reduce_loss`` semantics).

Every loss module (focal, QFL, DFL, IoU, rotated IoU, Gaussian, KD-KL, imitation) reduces through
:func:`weight_reduce_loss`: element-wise ``weight``, then ``'none'`` / ``'sum'`` / ``'mean'``; with an
``avg_factor`` ``'mean'`` is ``loss.sum() / (avg_factor + eps)`` with ``eps = finfo(float32).eps``
(mmdet's guard for an empty batch's ``avg_factor = 0``) and ``'sum'`` is an error (as mmdet).
"""
from __future__ import annotations

from typing import Optional, Union

import torch
from torch import Tensor

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
