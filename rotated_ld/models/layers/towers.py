"""The two conv towers (classification, regression) shared by the dense heads (GFL, RetinaNet)."""
from __future__ import annotations

from typing import Optional

from torch import Tensor, nn

from .conv_module import ConvModule


def build_towers(in_channels: int, feat_channels: int, stacked_convs: int,
                 norm_cfg: Optional[dict] = None) -> tuple[nn.ModuleList, nn.ModuleList]:
    """``(cls_convs, reg_convs)``: ``stacked_convs`` 3×3 ``ConvModule`` each (mmdet attribute layout).

    Built interleaved (cls 0, reg 0, cls 1, ...) so seeded initialisation matches mmdet's order.
    """
    cls_convs, reg_convs = nn.ModuleList(), nn.ModuleList()
    for i in range(stacked_convs):
        ch = in_channels if i == 0 else feat_channels
        cls_convs.append(ConvModule(ch, feat_channels, 3, padding=1, norm_cfg=norm_cfg))
        reg_convs.append(ConvModule(ch, feat_channels, 3, padding=1, norm_cfg=norm_cfg))
    return cls_convs, reg_convs


def run_towers(x: Tensor, cls_convs: nn.ModuleList, reg_convs: nn.ModuleList) -> tuple[Tensor, Tensor]:
    """One level's features ``(B, C_in, H, W)`` through both towers → ``(cls_feat, reg_feat)``."""
    c, r = x, x
    for conv in cls_convs:
        c = conv(c)
    for conv in reg_convs:
        r = conv(r)
    return c, r
