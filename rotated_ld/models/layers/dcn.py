"""Deformable convolution v1 (``DeformConv2dPack``) on ``torchvision.ops.deform_conv2d``.

Keeps mmcv's attribute names (``weight``, ``bias``, ``conv_offset.weight/bias``) so mmdet
ResNet-DCN checkpoints load. The offset layout, ``2 * deform_groups * kh * kw`` channels with the
``(dy, dx)`` pair of each kernel tap adjacent, is the same in mmcv and torchvision.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
from torch import Tensor
from torch.nn.modules.utils import _pair
from torchvision.ops import deform_conv2d


class DeformConv2dPack(nn.Module):
    """3×3 (or k×k) deformable conv whose offsets come from a plain conv (``conv_offset``, zero init).

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation, groups: as ``nn.Conv2d``.
        deform_groups: offset groups (mmcv ``deform_groups``).
        bias: add a learnable bias to the deformable conv.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                 padding: int = 1, dilation: int = 1, groups: int = 1, deform_groups: int = 1,
                 bias: bool = False):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size)
        self.stride, self.padding, self.dilation = _pair(stride), _pair(padding), _pair(dilation)
        self.groups, self.deform_groups = groups, deform_groups
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels // groups, *self.kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        num_offsets = deform_groups * 2 * self.kernel_size[0] * self.kernel_size[1]
        self.conv_offset = nn.Conv2d(in_channels, num_offsets,
                                     self.kernel_size, self.stride, self.padding, self.dilation, bias=True)
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        nn.init.zeros_(self.conv_offset.weight)  # starts as a plain conv
        nn.init.zeros_(self.conv_offset.bias)

    def forward(self, x: Tensor) -> Tensor:
        offset = self.conv_offset(x)
        return deform_conv2d(x, offset, self.weight, self.bias, stride=self.stride, padding=self.padding,
                             dilation=self.dilation)

    def extra_repr(self) -> str:
        return (f'{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, '
                f'stride={self.stride}, padding={self.padding}, deform_groups={self.deform_groups}')
