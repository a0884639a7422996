"""Building blocks with mmcv/mmdet attribute names (checkpoint compatible)."""
from .conv_module import ConvModule, build_activation, build_norm_layer
from .dcn import DeformConv2dPack
from .integral import Integral
from .scale import Scale
from .towers import build_towers, run_towers

__all__ = ['ConvModule', 'build_activation', 'build_norm_layer', 'DeformConv2dPack', 'Integral', 'Scale',
           'build_towers', 'run_towers']
