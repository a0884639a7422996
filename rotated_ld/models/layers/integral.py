"""Integral: expectation of a discrete distance distribution (GFL's "general distribution")."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor


class Integral(nn.Module):
    """Turn edge logits into distances: ``d = Σ_k k · softmax(z)_k`` for ``k = 0..reg_max``.

    The support is kept as buffer ``project`` (``linspace(0, reg_max, reg_max + 1)``) because mmdet
    GFL checkpoints store ``bbox_head.integral.project``.

    Args:
        reg_max: largest bin value ``n``; there are ``n + 1`` bins.

    Shape:
        input ``(..., 4 * (n + 1))`` edge-major logits (l, t, r, b blocks) →
        output ``(..., 4)`` distances in the same unit as the bins (stride units in GFL).
    """

    def __init__(self, reg_max: int = 16):
        super().__init__()
        self.reg_max = reg_max
        self.register_buffer('project', torch.linspace(0, reg_max, reg_max + 1))

    def forward(self, x: Tensor) -> Tensor:
        shape = x.shape[:-1]
        prob = F.softmax(x.reshape(*shape, 4, self.reg_max + 1).float(), dim=-1)
        return prob @ self.project.to(prob.dtype)
