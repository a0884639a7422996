"""``L1Loss`` (mmdet ``L1Loss``): the rotated RetinaNet's plain box loss on deltas.

Registered in ``MODELS`` as ``'L1Loss'`` (configs: ``loss_bbox=dict(type='L1Loss', loss_weight=1.0)``);
the Gaussian losses of :mod:`.gaussian_loss` replace it with ``reg_decoded_bbox=True``.
"""
from __future__ import annotations

from torch import Tensor

from rotated_ld.registry import MODELS

from .utils import ReducedLoss


@MODELS.register_module()
class L1Loss(ReducedLoss):
    """L1 loss ``Σ w·|pred − target| / avg_factor``.

    Args:
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default ``'mean'``.
        loss_weight (float): multiplier. Default 1.
    """

    def forward(self, pred: Tensor, target: Tensor, weight: Tensor | None = None,
                avg_factor: float | Tensor | None = None,
                reduction_override: str | None = None) -> Tensor:
        """pred, target (N, K); weight (N, K) or (N,) per row; returns a scalar or (N, K) in fp32."""
        loss = (pred.float() - target.float()).abs()
        if weight is not None and weight.dim() == 1 and loss.dim() == 2:
            weight = weight[:, None]
        return self.reduce(loss, weight, avg_factor, reduction_override)
