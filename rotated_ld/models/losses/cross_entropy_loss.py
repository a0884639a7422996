"""``CrossEntropyLoss`` with ``use_sigmoid=True`` (mmdet's binary cross-entropy on logits): the
centerness loss of the ATSS / FCOS distribution heads (``loss_centerness``).

Only the sigmoid form is implemented (no softmax classifier exists in this project); a config with
``use_sigmoid=False`` is refused at build time.
"""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from rotated_ld.registry import MODELS

from .utils import ReducedLoss


@MODELS.register_module()
class CrossEntropyLoss(ReducedLoss):
    """Binary cross-entropy on logits, ``Σ w·BCE(pred, target) / avg_factor``.

    Args:
        use_sigmoid (bool): must be True (binary targets in ``[0, 1]``, e.g. centerness).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default ``'mean'``.
        loss_weight (float): multiplier. Default 1.
    """

    def __init__(self, use_sigmoid: bool = True, reduction: str = 'mean', loss_weight: float = 1.0) -> None:
        if not use_sigmoid:
            raise ValueError('CrossEntropyLoss: only use_sigmoid=True (binary targets) is supported')
        super().__init__(reduction, loss_weight)
        self.use_sigmoid = True

    def forward(self, pred: Tensor, target: Tensor, weight: Tensor | None = None,
                avg_factor: float | Tensor | None = None,
                reduction_override: str | None = None) -> Tensor:
        """pred (N,) logits, target (N,) in ``[0, 1]`` (soft targets allowed); fp32 result."""
        loss = F.binary_cross_entropy_with_logits(pred.float(), target.float(), reduction='none')
        return self.reduce(loss, weight, avg_factor, reduction_override)
