"""Distribution Focal Loss (GFL): sharpen the edge distribution around the continuous target."""
from __future__ import annotations

from typing import Optional

import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from rotated_ld.registry import MODELS

from .utils import weight_reduce_loss


def distribution_focal_loss(pred: Tensor, label: Tensor) -> Tensor:
    """``DFL = (y1 − y)·CE(z, y0) + (y − y0)·CE(z, y1)`` with ``y0 = ⌊y⌋``, ``y1 = y0 + 1``.

    Args:
        pred: (N, n + 1) logits of one distribution per row.
        label: (N,) continuous targets in ``[0, n)`` (GFL clamps to ``n − 0.1``).

    Returns:
        (N,) loss per row.
    """
    left = label.long()
    right = left + 1
    w_left = right.float() - label
    w_right = label - left.float()
    return (F.cross_entropy(pred, left, reduction='none') * w_left
            + F.cross_entropy(pred, right.clamp(max=pred.size(1) - 1), reduction='none') * w_right)


@MODELS.register_module()
class DistributionFocalLoss(nn.Module):
    """DFL module; ``forward(pred (N, n+1), target (N,), weight (N,), avg_factor)``.

    Args:
        reduction: 'none' | 'mean' | 'sum'.
        loss_weight: multiplier (0.25 in GFL).
    """

    def __init__(self, reduction: str = 'mean', loss_weight: float = 1.0):
        super().__init__()
        self.reduction, self.loss_weight = reduction, loss_weight

    def forward(self, pred: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None) -> Tensor:
        loss = distribution_focal_loss(pred.float(), target.float())
        return self.loss_weight * weight_reduce_loss(loss, weight, reduction_override or self.reduction,
                                                     avg_factor)
