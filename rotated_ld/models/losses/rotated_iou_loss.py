"""Losses of the rotated GFL head: rotated IoU loss and the circular DFL on angle bins.

* :class:`RotatedIoULoss` — ``1 − IoU`` (``mode='linear'``) or ``−log IoU`` (``'log'``) between
  decoded and target rotated boxes, with the exact, differentiable
  :func:`rotated_ld.ops.box_iou_rotated` (aligned). Boxes in any angle version (IoU is
  version-independent), any consistent unit (the head uses stride units).
* :class:`CircularDFLoss` — the DFL of GFL on a circle of ``K`` angle bins: the target angle is
  split between its two neighbouring bins, the last and the first bin being neighbours
  (:meth:`CircularAngleCoder.encode`), and the loss is
  ``w_lo·CE(z, k_lo) + w_hi·CE(z, k_hi)``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rotated_ld.ops import box_iou_rotated
from rotated_ld.registry import MODELS

from .utils import weight_reduce_loss


@MODELS.register_module()
class RotatedIoULoss(nn.Module):
    """IoU loss on rotated boxes.

    Args:
        mode (str): ``'linear'`` (``1 − IoU``, default) or ``'log'`` (``−log IoU``).
        eps (float): IoU floor (log mode).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``.
        loss_weight (float): multiplier.
    """

    def __init__(self, mode: str = 'linear', eps: float = 1e-6, reduction: str = 'mean',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if mode not in ('linear', 'log'):
            raise ValueError(f"mode={mode!r}; expected 'linear' or 'log'")
        self.mode = mode
        self.eps = eps
        self.reduction = reduction
        self.loss_weight = float(loss_weight)

    def forward(self, pred: Tensor, target: Tensor, weight: Tensor | None = None,
                avg_factor: float | Tensor | None = None,
                reduction_override: str | None = None) -> Tensor:
        """Args: pred (N, 5) predicted rboxes (gradients flow); target (N, 5); weight (N,).

        Returns: scalar, or (N,) with ``reduction='none'``; fp32.
        """
        reduction = reduction_override or self.reduction
        if pred.shape[0] == 0:
            return pred.float().sum() * 0
        iou = box_iou_rotated(pred.float(), target.float(), aligned=True)
        loss = 1 - iou if self.mode == 'linear' else -iou.clamp(min=self.eps).log()
        return self.loss_weight * weight_reduce_loss(loss, weight, reduction, avg_factor)


@MODELS.register_module()
class CircularDFLoss(nn.Module):
    """Distribution focal loss on a circle of angle bins (see module docstring).

    Args:
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``.
        loss_weight (float): multiplier.
    """

    def __init__(self, reduction: str = 'mean', loss_weight: float = 1.0) -> None:
        super().__init__()
        self.reduction = reduction
        self.loss_weight = float(loss_weight)

    def forward(self, pred: Tensor, target: tuple[Tensor, Tensor, Tensor, Tensor],
                weight: Tensor | None = None, avg_factor: float | Tensor | None = None,
                reduction_override: str | None = None) -> Tensor:
        """Args:
            pred (Tensor): (N, K) angle logits.
            target (tuple): ``(idx_lo, idx_hi, w_lo, w_hi)`` from ``CircularAngleCoder.encode``.
            weight (Tensor, optional): (N,).

        Returns: scalar, or (N,) with ``reduction='none'``; fp32.
        """
        reduction = reduction_override or self.reduction
        idx_lo, idx_hi, w_lo, w_hi = target
        if pred.shape[0] == 0:
            return pred.float().sum() * 0
        logp = F.log_softmax(pred.float(), dim=-1)
        rows = torch.arange(pred.shape[0], device=pred.device)
        loss = -(w_lo * logp[rows, idx_lo] + w_hi * logp[rows, idx_hi])
        return self.loss_weight * weight_reduce_loss(loss, weight, reduction, avg_factor)
