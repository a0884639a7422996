"""Box structures: hbox (xyxy / cxcywh), rbox ``(cx, cy, w, h, t)`` radians, poly (8 coords).

See :mod:`.rbox` for the angle versions ``oc`` / ``le90`` / ``le135`` and their exact ranges and
:mod:`.converters` for the polygon vertex order. Also documented in ``docs/geometry.md``.
"""
from .converters import (
                         deg2rad,
                         hbox2poly,
                         hbox2rbox,
                         hbox_cxcywh2xyxy,
                         hbox_xyxy2cxcywh,
                         poly2hbox,
                         poly2rbox,
                         qbox2hbox,
                         qbox2rbox,
                         rad2deg,
                         rbox2hbox,
                         rbox2poly,
                         rbox2qbox,
)
from .rbox import (
                         ANGLE_RANGES,
                         ANGLE_VERSIONS,
                         angle_period,
                         angle_range,
                         check_angle_version,
                         convert_rbox_version,
                         norm_angle,
                         rbox_area,
                         rbox_in_range,
                         regularize_rboxes,
)
from .transforms import FLIP_DIRECTIONS, flip_rboxes, rotate_rboxes

__all__ = [
    'ANGLE_VERSIONS', 'ANGLE_RANGES', 'FLIP_DIRECTIONS', 'angle_period', 'angle_range',
    'check_angle_version', 'norm_angle', 'regularize_rboxes', 'convert_rbox_version',
    'rbox_in_range', 'rbox_area', 'rbox2poly', 'poly2rbox', 'rbox2hbox', 'hbox2rbox',
    'hbox2poly', 'poly2hbox', 'hbox_xyxy2cxcywh', 'hbox_cxcywh2xyxy', 'rbox2qbox', 'qbox2rbox',
    'qbox2hbox', 'flip_rboxes', 'rotate_rboxes', 'deg2rad', 'rad2deg',
]
