"""IoU-family box losses on aligned pairs of horizontal boxes (xyxy)."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn
from torch import Tensor

from rotated_ld.registry import MODELS

from .utils import weight_reduce_loss

OVERLAP_MODES = ('iou', 'giou', 'diou', 'ciou')


def aligned_box_overlaps(a: Tensor, b: Tensor, mode: str = 'iou', eps: float = 1e-6) -> Tensor:
    """IoU / GIoU / DIoU / CIoU of row-aligned boxes.

    Args:
        a, b: (..., 4) xyxy boxes (same shape).
        mode: one of ``('iou', 'giou', 'diou', 'ciou')``.

    Returns:
        (...,) overlaps; empty input gives an empty output.
    """
    if mode not in OVERLAP_MODES:
        raise ValueError(f'mode={mode!r}; expected one of {OVERLAP_MODES}')
    lt = torch.max(a[..., :2], b[..., :2])
    rb = torch.min(a[..., 2:], b[..., 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    union = (area_a + area_b - inter).clamp(min=eps)
    iou = inter / union
    if mode == 'iou':
        return iou
    enc_lt = torch.min(a[..., :2], b[..., :2])
    enc_rb = torch.max(a[..., 2:], b[..., 2:])
    enc_wh = (enc_rb - enc_lt).clamp(min=0)
    if mode == 'giou':
        enc_area = (enc_wh[..., 0] * enc_wh[..., 1]).clamp(min=eps)
        return iou - (enc_area - union) / enc_area
    c2 = (enc_wh ** 2).sum(-1).clamp(min=eps)
    rho2 = (((a[..., :2] + a[..., 2:]) - (b[..., :2] + b[..., 2:])) ** 2).sum(-1) / 4
    if mode == 'diou':
        return iou - rho2 / c2
    wa, ha = a[..., 2] - a[..., 0], (a[..., 3] - a[..., 1]).clamp(min=eps)
    wb, hb = b[..., 2] - b[..., 0], (b[..., 3] - b[..., 1]).clamp(min=eps)
    v = (4 / torch.pi ** 2) * (torch.atan(wb / hb) - torch.atan(wa / ha)) ** 2
    with torch.no_grad():
        alpha = (iou > 0.5).float() * v / (1 - iou + v).clamp(min=eps)
    return iou - (rho2 / c2 + alpha * v)


class _OverlapLoss(nn.Module):
    mode = 'iou'

    def __init__(self, eps: float = 1e-6, reduction: str = 'mean', loss_weight: float = 1.0):
        super().__init__()
        self.eps, self.reduction, self.loss_weight = eps, reduction, loss_weight

    def forward(self, pred: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None) -> Tensor:
        """``pred``, ``target``: (N, 4) xyxy; ``weight``: (N,) (or (N, 4), averaged over the last dim)."""
        if weight is not None and weight.dim() > 1:
            weight = weight.mean(-1)
        loss = 1 - aligned_box_overlaps(pred.float(), target.float(), self.mode, self.eps)
        return self.loss_weight * weight_reduce_loss(loss, weight, reduction_override or self.reduction,
                                                     avg_factor)


def _overlap_loss(name: str, mode: str, doc: str) -> type:
    """Register and return the :class:`_OverlapLoss` of ``mode`` under mmdet's class ``name``."""
    return MODELS.register_module(module=type(name, (_OverlapLoss,), {'mode': mode, '__doc__': doc,
                                                                        '__module__': __name__}))


IoULoss = _overlap_loss('IoULoss', 'iou', '``1 − IoU`` (linear IoU loss).')
GIoULoss = _overlap_loss('GIoULoss', 'giou', '``1 − GIoU`` (Rezatofighi et al. 2019); GFL uses weight 2.0.')
DIoULoss = _overlap_loss('DIoULoss', 'diou', '``1 − DIoU`` (Zheng et al. 2020).')
CIoULoss = _overlap_loss('CIoULoss', 'ciou', "``1 − CIoU`` (Zheng et al. 2020; HikariTJU/LD's GFL baseline).")
