"""Box geometry: hbox (xyxy / cxcywh), rbox ``(cx, cy, w, h, t)`` radians, poly (flat vertices).

The one home of box geometry in the package -- angle versions and the angle wrap
(:mod:`.rbox`), hbox <-> rbox <-> poly converters and the polygon vertex order
(:mod:`.converters`), polygon area (:mod:`.polygon`), flips / rotations / resize undo
(:mod:`.transforms`). Every function takes torch tensors or numpy arrays and returns the same kind
(:mod:`.array_backend`); importing this package does not import torch. See ``docs/geometry.md``.
"""
from .converters import (
                         as_rboxes,
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
from .polygon import poly_area, poly_signed_area
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
                         wrap_angle,
)
from .transforms import FLIP_DIRECTIONS, flip_rboxes, rescale_rboxes, rotate_rboxes

__all__ = [
    'ANGLE_VERSIONS', 'ANGLE_RANGES', 'FLIP_DIRECTIONS', 'angle_period', 'angle_range',
    'check_angle_version', 'wrap_angle', 'norm_angle', 'regularize_rboxes', 'convert_rbox_version',
    'rbox_in_range', 'rbox_area', 'rbox2poly', 'poly2rbox', 'rbox2hbox', 'hbox2rbox', 'as_rboxes',
    'hbox2poly', 'poly2hbox', 'hbox_xyxy2cxcywh', 'hbox_cxcywh2xyxy', 'rbox2qbox', 'qbox2rbox',
    'qbox2hbox', 'poly_area', 'poly_signed_area', 'flip_rboxes', 'rotate_rboxes', 'rescale_rboxes',
    'deg2rad', 'rad2deg',
]
