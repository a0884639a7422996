"""Loss reduction helpers (mmdet semantics: element-wise weight, then sum/mean or ``/ avg_factor``)."""
from __future__ import annotations

from typing import Optional

from torch import Tensor

REDUCTIONS = ('none', 'mean', 'sum')


def weight_reduce_loss(loss: Tensor, weight: Optional[Tensor] = None, reduction: str = 'mean',
                       avg_factor: Optional[float] = None) -> Tensor:
    """Apply an element-wise ``weight`` then reduce.

    ``avg_factor`` given: ``'mean'`` means ``loss.sum() / avg_factor`` (``'sum'`` with an avg_factor is
    an error, as in mmdet). ``'none'`` returns the weighted element-wise loss.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f'reduction={reduction!r}; expected one of {REDUCTIONS}')
    if weight is not None:
        loss = loss * weight
    if avg_factor is None:
        if reduction == 'mean':
            return loss.mean()
        return loss.sum() if reduction == 'sum' else loss
    if reduction == 'mean':
        eps = 1e-12  # avg_factor may be 0 for empty batches; mmdet uses finfo eps
        return loss.sum() / (avg_factor + eps)
    if reduction == 'none':
        return loss
    raise ValueError('avg_factor can not be used with reduction="sum"')
