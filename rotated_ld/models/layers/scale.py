"""Learnable scalar multiplier (one per FPN level in GFL)."""
import torch
import torch.nn as nn
from torch import Tensor


class Scale(nn.Module):
    """``x * scale`` with a learnable scalar.

    The parameter is called ``scale`` (mmdet checkpoints store ``scales.<i>.scale``).
    """

    def __init__(self, scale: float = 1.0):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(scale, dtype=torch.float))

    def forward(self, x: Tensor) -> Tensor:
        return x * self.scale
