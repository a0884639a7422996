"""ResNet-18/34/50/101/152 backbone on torchvision's building blocks.

Differences from ``torchvision.models.ResNet``: returns the feature maps of the stages named by
``out_indices`` (C2..C5 = 0..3), supports ``frozen_stages``, ``norm_eval``, mmcv-style
``norm_cfg`` and optional deformable 3×3 convs (``dcn``/``stage_with_dcn``, Bottleneck only).
State-dict keys equal torchvision's and mmdet's (``conv1``, ``bn1``, ``layer1.0.conv1``, ...,
``downsample.0/1``; a DCN conv keeps ``layer2.0.conv2.weight`` plus ``conv2.conv_offset.*``), so
torchvision ImageNet weights and mmdet checkpoints load directly. Weights are never downloaded:
``init_cfg=dict(type='Pretrained', checkpoint='/path/resnet50.pth')`` (a local file) or, as in
mmdet configs, ``checkpoint='torchvision://resnet50'`` (or a ``https://`` URL), read from torch's
hub cache (``torch.hub.get_dir()/checkpoints/resnet50-0676ba61.pth``; when it is absent, the error
says where to put it and how to fetch it — :mod:`rotated_ld.utils.pretrained`).
``open-mmlab://`` ResNets are refused: OpenMMLab's ResNet weights are caffe-style, V1c (deep stem)
or GN variants, none of them torchvision's layout.

Defaults differ from mmdet on purpose: BN layers are trainable and in train mode
(``norm_eval=False``) and nothing is frozen, because from-scratch training (the CPU demo) needs
working BN. The COCO configs switch to mmdet's ``frozen_stages=1, norm_eval=True``.
"""
from __future__ import annotations

import re
from typing import Optional, Sequence

import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor
from torchvision.models.resnet import BasicBlock, Bottleneck, conv1x1

from rotated_ld.registry import MODELS
from rotated_ld.utils.pretrained import OPENMMLAB_PREFIXES, TORCHVISION_PREFIXES, model_url

from ..layers import DeformConv2dPack, build_norm_layer


def _norm_factory(norm_cfg: dict):
    def make(num_features: int) -> nn.Module:
        return build_norm_layer(norm_cfg, num_features)[1]
    return make


@MODELS.register_module()
class ResNet(BaseModule):
    """ResNet backbone returning multi-scale features.

    Args:
        depth: 18, 34, 50, 101 or 152.
        in_channels: input image channels.
        num_stages: residual stages used (1–4).
        strides: stride of the first block of each stage.
        out_indices: stages whose outputs are returned, 0-based (3 = C5, stride 32).
        frozen_stages: -1 none; 0 the stem; i the stem and stages 1..i (eval mode, no grad).
        norm_cfg: ``dict(type='BN', requires_grad=True)`` (default), ``'SyncBN'``, ``'GN'`` ...
        norm_eval: keep every BN layer in eval mode (frozen running stats) during training.
        dcn: e.g. ``dict(type='DCN', deform_groups=1, fallback_on_stride=False)``; replaces the 3×3
            conv of the Bottleneck blocks in stages where ``stage_with_dcn`` is True.
        stage_with_dcn: four booleans.
        zero_init_residual: zero the last norm of each block (as mmdet), so blocks start as identity.
        init_cfg: ``dict(type='Pretrained', checkpoint=LOCAL_PATH | 'torchvision://resnetNN')`` or
            ``None`` (random init).

    Shapes: input ``(B, 3, H, W)`` → tuple of ``(B, C_i, ⌈H/s_i⌉, ⌈W/s_i⌉)`` for ``i`` in
    ``out_indices`` with ``s = 4, 8, 16, 32`` and ``C = 64·e, 128·e, 256·e, 512·e`` (``e`` = 1 for
    BasicBlock, 4 for Bottleneck).

    Example:
        >>> import torch
        >>> m = ResNet(18, out_indices=(1, 2, 3))
        >>> [tuple(f.shape) for f in m(torch.zeros(1, 3, 64, 64))]
        [(1, 128, 8, 8), (1, 256, 4, 4), (1, 512, 2, 2)]
    """

    arch_settings = {18: (BasicBlock, (2, 2, 2, 2)), 34: (BasicBlock, (3, 4, 6, 3)),
                     50: (Bottleneck, (3, 4, 6, 3)), 101: (Bottleneck, (3, 4, 23, 3)),
                     152: (Bottleneck, (3, 8, 36, 3))}

    def __init__(self, depth: int, in_channels: int = 3, num_stages: int = 4,
                 strides: Sequence[int] = (1, 2, 2, 2), out_indices: Sequence[int] = (0, 1, 2, 3),
                 frozen_stages: int = -1, norm_cfg: Optional[dict] = None,
                 norm_eval: bool = False, dcn: Optional[dict] = None,
                 stage_with_dcn: Sequence[bool] = (False, False, False, False),
                 zero_init_residual: bool = True, style: str = 'pytorch',
                 init_cfg: Optional[dict] = None, pretrained: Optional[str] = None):
        norm_cfg = norm_cfg or dict(type='BN', requires_grad=True)
        if pretrained is not None:  # mmdet-2 style argument
            init_cfg = dict(type='Pretrained', checkpoint=pretrained)
        _check_pretrained(init_cfg, depth)
        super().__init__(init_cfg=init_cfg)
        if depth not in self.arch_settings:
            raise ValueError(f'ResNet depth={depth}; expected one of {sorted(self.arch_settings)}')
        if style != 'pytorch':
            raise ValueError(f"style={style!r}: only 'pytorch' (stride on the 3x3 conv, torchvision) exists")
        if not 1 <= num_stages <= 4:
            raise ValueError(f'num_stages={num_stages}; expected 1..4')
        if max(out_indices) >= num_stages:
            raise ValueError(f'out_indices={tuple(out_indices)} must be < num_stages={num_stages}')
        if dcn is not None:
            if len(stage_with_dcn) != num_stages and len(stage_with_dcn) != 4:
                raise ValueError('stage_with_dcn needs one flag per stage')
            if dcn.get('type', 'DCN') != 'DCN':
                raise ValueError(f"dcn type {dcn.get('type')!r}: only 'DCN' (v1, torchvision deform_conv2d)")
        self.depth, self.out_indices = depth, tuple(out_indices)
        self.frozen_stages, self.norm_eval = frozen_stages, norm_eval
        self.num_stages = num_stages
        block, stage_blocks = self.arch_settings[depth]
        self.block = block
        norm_layer = _norm_factory(norm_cfg)
        # names kept for checkpoint compatibility: conv1 / bn1 / layer{i}
        self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = norm_layer(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.inplanes = 64
        self.res_layers: list[str] = []
        for i in range(num_stages):
            planes = 64 * 2 ** i
            use_dcn = dcn is not None and bool(stage_with_dcn[i])
            layer = self._make_layer(block, planes, stage_blocks[i], strides[i], norm_layer,
                                     dcn if use_dcn else None)
            name = f'layer{i + 1}'
            self.add_module(name, layer)
            self.res_layers.append(name)
        self.feat_dim = self.inplanes
        self._init_random(zero_init_residual)
        self._freeze_stages()

    def _make_layer(self, block, planes: int, blocks: int, stride: int, norm_layer,
                    dcn: Optional[dict]) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       norm_layer(planes * block.expansion))
        layers = []
        for j in range(blocks):
            s = stride if j == 0 else 1
            m = block(self.inplanes, planes, s, downsample if j == 0 else None, norm_layer=norm_layer)
            if dcn is not None:
                if block is not Bottleneck:
                    raise ValueError('DCN is only implemented for Bottleneck ResNets (depth >= 50)')
                if not (dcn.get('fallback_on_stride', False) and s > 1):
                    width = m.conv2.in_channels
                    m.conv2 = DeformConv2dPack(width, m.conv2.out_channels, 3, stride=s, padding=1,
                                               deform_groups=dcn.get('deform_groups', 1), bias=False)
            layers.append(m)
            self.inplanes = planes * block.expansion
        return nn.Sequential(*layers)

    def _init_random(self, zero_init_residual: bool) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm, nn.SyncBatchNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        for m in self.modules():  # DCN offsets start at zero (after the generic conv init above)
            if isinstance(m, DeformConv2dPack):
                nn.init.zeros_(m.conv_offset.weight)
                nn.init.zeros_(m.conv_offset.bias)
        if zero_init_residual:
            for m in self.modules():
                last = getattr(m, 'bn3', None) if isinstance(m, Bottleneck) else \
                    getattr(m, 'bn2', None) if isinstance(m, BasicBlock) else None
                if last is not None and getattr(last, 'weight', None) is not None:
                    nn.init.zeros_(last.weight)

    def _freeze_stages(self) -> None:
        if self.frozen_stages >= 0:
            for m in (self.conv1, self.bn1):
                m.eval()
                for p in m.parameters():
                    p.requires_grad = False
        for i in range(1, self.frozen_stages + 1):
            m = getattr(self, f'layer{i}')
            m.eval()
            for p in m.parameters():
                p.requires_grad = False

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        outs = []
        for i, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def train(self, mode: bool = True) -> ResNet:
        """Train mode, except frozen stages and (with ``norm_eval``) every BN layer stay in eval."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self


def _check_pretrained(init_cfg, depth: int) -> None:
    """Refuse pretrained names that cannot fit this backbone, before anything is built or read."""
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    for c in cfgs:
        if not (isinstance(c, dict) and c.get('type') == 'Pretrained'):
            continue
        ckpt = str(c.get('checkpoint', ''))
        if ckpt.startswith(OPENMMLAB_PREFIXES):
            raise ValueError(f'init_cfg checkpoint {ckpt!r}: OpenMMLab\'s ResNet weights are caffe-style, V1c or GN '
                             f'variants that do not fit this torchvision-style ResNet; use '
                             f"'torchvision://resnet{depth}' or a local file")
        if ckpt.startswith(TORCHVISION_PREFIXES):
            try:
                model_url(ckpt)
            except KeyError as e:
                raise ValueError(f'init_cfg checkpoint {e.args[0]}') from None
            m = re.match(r'(?:torchvision|modelzoo)://resnet(\d+)\b', ckpt)
            if not m:
                raise ValueError(f'init_cfg checkpoint {ckpt!r} is not a torchvision ResNet; '
                                 f"use 'torchvision://resnet{depth}'")
            if int(m.group(1)) != depth:
                raise ValueError(f'init_cfg checkpoint {ckpt!r} holds ResNet-{m.group(1)} weights for a '
                                 f"ResNet-{depth}; use 'torchvision://resnet{depth}'")


__all__ = ['ResNet']
