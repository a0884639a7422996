"""Fold BatchNorm into the preceding convolution for inference (mmcv ``fuse_conv_bn`` semantics)."""
from __future__ import annotations

import torch
import torch.nn as nn

__all__ = ['fuse_conv_bn']


def _fuse(conv: nn.Conv2d, bn: nn.modules.batchnorm._BatchNorm) -> nn.Conv2d:
    # y = gamma * (W x + b - mean) / sqrt(var + eps) + beta  ==  W' x + b'
    w = conv.weight
    mean = bn.running_mean
    b = conv.bias if conv.bias is not None else torch.zeros_like(mean)
    factor = (bn.weight if bn.affine else torch.ones_like(mean)) / torch.sqrt(bn.running_var + bn.eps)
    conv.weight = nn.Parameter(w * factor.reshape(-1, 1, 1, 1))
    beta = bn.bias if bn.affine else torch.zeros_like(mean)
    conv.bias = nn.Parameter((b - mean) * factor + beta)
    return conv


def fuse_conv_bn(module: nn.Module) -> nn.Module:
    """Fold every eval-mode BatchNorm that directly follows a Conv2d among a module's children
    (registration order, as in ResNet blocks and ConvModule) into the conv; the BN becomes
    ``nn.Identity``. Returns ``module`` (modified in place). Only for inference."""
    last_conv = None
    for name, child in module.named_children():
        if isinstance(child, nn.modules.batchnorm._BatchNorm) and child.track_running_stats \
                and child.running_mean is not None:
            if last_conv is None or last_conv.out_channels != child.num_features:
                last_conv = None  # a BN not fed by the previous conv
                continue
            _fuse(last_conv, child)
            module._modules[name] = nn.Identity()
            last_conv = None
        elif isinstance(child, nn.Conv2d):
            last_conv = child
        else:
            fuse_conv_bn(child)
            last_conv = None
    return module
