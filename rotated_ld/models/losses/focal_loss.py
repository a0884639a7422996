"""Sigmoid focal loss (Lin et al. 2017), for RetinaNet-style heads."""
from __future__ import annotations

from typing import Optional

import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from rotated_ld.registry import MODELS

from .utils import weight_reduce_loss


def sigmoid_focal_loss(pred: Tensor, labels: Tensor, gamma: float = 2.0, alpha: float = 0.25) -> Tensor:
    """Element-wise focal loss.

    Args:
        pred: (N, C) logits. labels: (N,) long, values outside ``[0, C)`` are background.

    Returns:
        (N, C) loss.
    """
    num_classes = pred.size(1)
    target = F.one_hot(labels.clamp(0, num_classes), num_classes + 1)[:, :num_classes].to(pred.dtype)
    target = target * ((labels >= 0) & (labels < num_classes))[:, None]
    p = pred.sigmoid()
    pt = (1 - p) * target + p * (1 - target)
    w = (alpha * target + (1 - alpha) * (1 - target)) * pt.pow(gamma)
    return F.binary_cross_entropy_with_logits(pred, target, reduction='none') * w


@MODELS.register_module()
class FocalLoss(nn.Module):
    """Sigmoid focal loss; ``forward(pred (N, C), labels (N,), weight (N,) | (N, C), avg_factor)``."""

    def __init__(self, use_sigmoid: bool = True, gamma: float = 2.0, alpha: float = 0.25,
                 reduction: str = 'mean', loss_weight: float = 1.0):
        super().__init__()
        if not use_sigmoid:
            raise ValueError('FocalLoss only supports use_sigmoid=True')
        self.use_sigmoid = use_sigmoid
        self.gamma, self.alpha, self.reduction, self.loss_weight = gamma, alpha, reduction, loss_weight

    def forward(self, pred: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None) -> Tensor:
        loss = sigmoid_focal_loss(pred.float(), target, self.gamma, self.alpha)
        if weight is not None and weight.dim() == 1:
            weight = weight[:, None]
        return self.loss_weight * weight_reduce_loss(loss, weight, reduction_override or self.reduction,
                                                     avg_factor)
