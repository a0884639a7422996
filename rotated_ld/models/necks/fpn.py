"""Feature Pyramid Network (Lin et al., 2017) with mmdet's options and key names.

Keys: ``lateral_convs.<i>.conv``, ``fpn_convs.<i>.conv`` (extra stride-2 convs are appended to
``fpn_convs``), as mmdet, so mmdet GFL checkpoints load.
"""
from __future__ import annotations

from typing import Optional, Sequence, Union

import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from rotated_ld.registry import MODELS

from ..layers import ConvModule

_XAVIER = {'type': 'Xavier', 'layer': 'Conv2d', 'distribution': 'uniform'}  # read-only default


@MODELS.register_module()
class FPN(BaseModule):
    """FPN neck.

    Args:
        in_channels: channels of each backbone output, e.g. ``[256, 512, 1024, 2048]``.
        out_channels: channels of every output level.
        num_outs: number of output levels (extra levels come from stride-2 3×3 convs).
        start_level: first backbone output used (GFL: 1, i.e. C3 → P3).
        end_level: last backbone output used (-1: the last).
        add_extra_convs: ``False`` (max-pool extra levels), ``True``/``'on_input'``,
            ``'on_lateral'`` or ``'on_output'`` (GFL: the extra convs take P5 / the previous extra).
        relu_before_extra_convs: apply ReLU before every extra conv but the first.
        norm_cfg / act_cfg: of the lateral and output convs (default: none).
        upsample_cfg: ``F.interpolate`` kwargs for the top-down path (default nearest to size).

    Shapes: ``len(in_channels)`` maps ``(B, C_i, H_i, W_i)`` → ``num_outs`` maps
    ``(B, out_channels, H_j, W_j)``, each level half the size of the previous one.
    """

    def __init__(self, in_channels: Sequence[int], out_channels: int, num_outs: int, start_level: int = 0,
                 end_level: int = -1, add_extra_convs: Union[bool, str] = False,
                 relu_before_extra_convs: bool = False, no_norm_on_lateral: bool = False,
                 norm_cfg: Optional[dict] = None, act_cfg: Optional[dict] = None,
                 upsample_cfg: Optional[dict] = None, init_cfg: Optional[dict] = _XAVIER):
        super().__init__(init_cfg=init_cfg)
        upsample_cfg = upsample_cfg or dict(mode='nearest')
        self.in_channels, self.out_channels = list(in_channels), out_channels
        self.num_ins, self.num_outs = len(in_channels), num_outs
        self.relu_before_extra_convs = relu_before_extra_convs
        self.upsample_cfg = dict(upsample_cfg)
        if end_level == -1 or end_level == self.num_ins - 1:
            self.backbone_end_level = self.num_ins
            if num_outs < self.num_ins - start_level:
                raise ValueError(f'num_outs={num_outs} < used inputs {self.num_ins - start_level}')
        else:
            self.backbone_end_level = end_level + 1
            if end_level >= self.num_ins or num_outs != end_level - start_level + 1:
                raise ValueError(f'end_level={end_level} inconsistent with num_outs={num_outs}')
        self.start_level, self.end_level = start_level, end_level
        if add_extra_convs is True:
            add_extra_convs = 'on_input'
        if add_extra_convs not in (False, 'on_input', 'on_lateral', 'on_output'):
            raise ValueError(f'add_extra_convs={add_extra_convs!r}; expected False, True, '
                             f"'on_input', 'on_lateral' or 'on_output'")
        self.add_extra_convs = add_extra_convs
        self.lateral_convs = nn.ModuleList()
        self.fpn_convs = nn.ModuleList()
        for i in range(start_level, self.backbone_end_level):
            self.lateral_convs.append(ConvModule(in_channels[i], out_channels, 1,
                                                 norm_cfg=None if no_norm_on_lateral else norm_cfg,
                                                 act_cfg=act_cfg))
            self.fpn_convs.append(ConvModule(out_channels, out_channels, 3, padding=1, norm_cfg=norm_cfg,
                                             act_cfg=act_cfg))
        extra_levels = num_outs - self.backbone_end_level + start_level
        if add_extra_convs and extra_levels >= 1:
            for i in range(extra_levels):
                in_ch = in_channels[self.backbone_end_level - 1] if i == 0 and add_extra_convs == 'on_input' \
                    else out_channels
                self.fpn_convs.append(ConvModule(in_ch, out_channels, 3, stride=2, padding=1,
                                                 norm_cfg=norm_cfg, act_cfg=act_cfg))
        if init_cfg is None:  # keep the documented default init even without an init_cfg
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.xavier_uniform_(m.weight)
                    nn.init.zeros_(m.bias) if m.bias is not None else None

    def forward(self, inputs: Sequence[Tensor]) -> tuple[Tensor, ...]:
        if len(inputs) != self.num_ins:
            raise ValueError(f'FPN expects {self.num_ins} inputs, got {len(inputs)}')
        laterals = [conv(inputs[i + self.start_level]) for i, conv in enumerate(self.lateral_convs)]
        for i in range(len(laterals) - 1, 0, -1):
            if 'scale_factor' in self.upsample_cfg:
                up = F.interpolate(laterals[i], **self.upsample_cfg)
            else:
                up = F.interpolate(laterals[i], size=laterals[i - 1].shape[2:], **self.upsample_cfg)
            laterals[i - 1] = laterals[i - 1] + up
        used = len(laterals)
        outs = [self.fpn_convs[i](laterals[i]) for i in range(used)]
        if self.num_outs > used:
            if not self.add_extra_convs:
                for _ in range(self.num_outs - used):
                    outs.append(F.max_pool2d(outs[-1], 1, stride=2))
            else:
                if self.add_extra_convs == 'on_input':
                    src = inputs[self.backbone_end_level - 1]
                elif self.add_extra_convs == 'on_lateral':
                    src = laterals[-1]
                else:
                    src = outs[-1]
                outs.append(self.fpn_convs[used](src))
                for i in range(used + 1, self.num_outs):
                    x = F.relu(outs[-1]) if self.relu_before_extra_convs else outs[-1]
                    outs.append(self.fpn_convs[i](x))
        return tuple(outs)
