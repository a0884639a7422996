"""Quality Focal Loss (GFL, Li et al. 2020): joint class × IoU-quality sigmoid targets."""
from __future__ import annotations

from typing import Optional

import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from rotated_ld.registry import MODELS

from .utils import weight_reduce_loss


def quality_focal_loss(pred: Tensor, labels: Tensor, scores: Tensor, beta: float = 2.0,
                       activated: bool = False) -> Tensor:
    """Per-location QFL summed over classes.

    ``QFL = Σ_c BCE(x_c, q_c) · |q_c − σ(x_c)|^β`` with ``q_c = score`` for the labelled class of a
    positive location and 0 elsewhere.

    Args:
        pred: (N, C) logits (or probabilities if ``activated``).
        labels: (N,) long in ``[0, C]``; ``C`` (or any value outside ``[0, C)``) = background.
        scores: (N,) IoU quality targets of the positives (ignored for background).

    Returns:
        (N,) loss per location.
    """
    num_classes = pred.size(1)
    sigma = pred if activated else pred.sigmoid()
    pos = (labels >= 0) & (labels < num_classes)
    target = pred.new_zeros(pred.shape)
    pos_idx = pos.nonzero().squeeze(1)
    target[pos_idx, labels[pos_idx]] = scores[pos_idx].to(target.dtype)
    if activated:
        bce = F.binary_cross_entropy(pred, target, reduction='none')
    else:
        bce = F.binary_cross_entropy_with_logits(pred, target, reduction='none')
    return (bce * (target - sigma).abs().pow(beta)).sum(dim=1)


@MODELS.register_module()
class QualityFocalLoss(nn.Module):
    """QFL module; ``forward(pred, (labels, scores), weight, avg_factor)``.

    Args:
        use_sigmoid: must be True (QFL is a sigmoid loss).
        beta: focusing exponent (2).
        reduction: 'none' | 'mean' | 'sum'.
        loss_weight: multiplier (1.0 in GFL).
        activated: ``pred`` already holds probabilities.
    """

    def __init__(self, use_sigmoid: bool = True, beta: float = 2.0, reduction: str = 'mean',
                 loss_weight: float = 1.0, activated: bool = False):
        super().__init__()
        if not use_sigmoid:
            raise ValueError('QualityFocalLoss only supports use_sigmoid=True')
        self.use_sigmoid, self.beta, self.reduction = use_sigmoid, beta, reduction
        self.loss_weight, self.activated = loss_weight, activated

    def forward(self, pred: Tensor, target: tuple[Tensor, Tensor], weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None) -> Tensor:
        labels, scores = target
        loss = quality_focal_loss(pred.float(), labels, scores.float(), self.beta, self.activated)
        if weight is not None and weight.dim() > 1:
            weight = weight.reshape(-1)
        return self.loss_weight * weight_reduce_loss(loss, weight, reduction_override or self.reduction,
                                                     avg_factor)


__all__ = ['QualityFocalLoss', 'quality_focal_loss']
