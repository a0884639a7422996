"""Conv → norm → activation block with mmcv ``ConvModule`` attribute names.

Checkpoint compatibility: mmdet stores such a block as ``<name>.conv.weight`` plus
``<name>.bn.*`` (BatchNorm / SyncBN) or ``<name>.gn.*`` (GroupNorm). We keep those names so
mmdet-format GFL checkpoints load with ``strict=True``.
"""
from __future__ import annotations

from typing import Optional

import torch.nn as nn
from torch import Tensor

_NORM_ABBR = {'BN': 'bn', 'BN2d': 'bn', 'SyncBN': 'bn', 'GN': 'gn', 'LN': 'ln', 'IN': 'in'}


def build_norm_layer(cfg: dict, num_features: int) -> tuple[str, nn.Module]:
    """Build a normalisation layer from an mmcv-style dict.

    Args:
        cfg: ``dict(type='BN'|'SyncBN'|'GN', requires_grad=True, **kwargs)``; ``GN`` needs
            ``num_groups``. ``eps`` / ``momentum`` are passed through.
        num_features: channels to normalise.

    Returns:
        (name, module): name is the mmcv attribute name (``'bn'``, ``'gn'``).
    """
    cfg = dict(cfg)
    norm_type = cfg.pop('type')
    requires_grad = cfg.pop('requires_grad', True)
    if norm_type in ('BN', 'BN2d'):
        layer = nn.BatchNorm2d(num_features, **cfg)
    elif norm_type == 'SyncBN':
        layer = nn.SyncBatchNorm(num_features, **cfg)
    elif norm_type == 'GN':
        if 'num_groups' not in cfg:
            raise ValueError(f'GN needs num_groups; got {cfg}')
        num_groups = cfg.pop('num_groups')
        if num_features % num_groups:
            raise ValueError(f'GN: {num_features} channels are not divisible by num_groups={num_groups}')
        layer = nn.GroupNorm(num_groups, num_features, **cfg)
    else:
        raise ValueError(f'norm type {norm_type!r}; expected one of {sorted(_NORM_ABBR)}')
    for p in layer.parameters():
        p.requires_grad = requires_grad
    return _NORM_ABBR[norm_type], layer


def build_activation(cfg: Optional[dict]) -> Optional[nn.Module]:
    """``dict(type='ReLU'|'LeakyReLU'|'SiLU'|'GELU', **kw)`` → module, ``None`` → ``None``."""
    if cfg is None:
        return None
    cfg = dict(cfg)
    act_type = cfg.pop('type')
    table = {'ReLU': nn.ReLU, 'LeakyReLU': nn.LeakyReLU, 'SiLU': nn.SiLU, 'Swish': nn.SiLU,
             'GELU': nn.GELU, 'ReLU6': nn.ReLU6}
    if act_type not in table:
        raise ValueError(f'activation type {act_type!r}; expected one of {sorted(table)}')
    if act_type in ('ReLU', 'LeakyReLU', 'SiLU', 'Swish', 'ReLU6'):
        cfg.setdefault('inplace', True)
    return table[act_type](**cfg)


_RELU = {'type': 'ReLU'}  # read-only default


class ConvModule(nn.Module):
    """``conv`` → optional norm (``bn``/``gn``) → optional activation (``activate``).

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation, groups: as ``nn.Conv2d``.
        bias: ``'auto'`` means a bias only when there is no norm layer (as mmcv).
        norm_cfg: e.g. ``dict(type='GN', num_groups=32, requires_grad=True)``; ``None`` for none.
        act_cfg: e.g. ``dict(type='ReLU')``; ``None`` for none.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, dilation: int = 1, groups: int = 1, bias: bool | str = 'auto',
                 norm_cfg: Optional[dict] = None, act_cfg: Optional[dict] = _RELU):
        super().__init__()
        with_norm = norm_cfg is not None
        if bias == 'auto':
            bias = not with_norm
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                              bias=bias)
        self.norm_name = None
        if with_norm:
            self.norm_name, norm = build_norm_layer(norm_cfg, out_channels)
            self.add_module(self.norm_name, norm)
        self.activate = build_activation(act_cfg)
        # mmcv's default init: Kaiming (fan_out, relu) for the conv, norm weight 1 / bias 0.
        nn.init.kaiming_normal_(self.conv.weight, mode='fan_out', nonlinearity='relu')
        if self.conv.bias is not None:
            nn.init.zeros_(self.conv.bias)

    @property
    def norm(self) -> Optional[nn.Module]:
        return getattr(self, self.norm_name) if self.norm_name else None

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(x)
        if self.norm_name:
            x = getattr(self, self.norm_name)(x)
        if self.activate is not None:
            x = self.activate(x)
        return x
