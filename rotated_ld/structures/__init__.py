"""Data structures: :class:`DetDataSample` and box helpers (``bbox/``)."""
from .bbox import (
                   ANGLE_VERSIONS,
                   convert_rbox_version,
                   flip_rboxes,
                   hbox2rbox,
                   hbox_cxcywh2xyxy,
                   hbox_xyxy2cxcywh,
                   norm_angle,
                   poly2rbox,
                   rbox2hbox,
                   rbox2poly,
                   regularize_rboxes,
                   rotate_rboxes,
)
from .det_data_sample import DetDataSample, SampleList

__all__ = [
    'DetDataSample', 'SampleList', 'ANGLE_VERSIONS', 'rbox2poly', 'poly2rbox', 'rbox2hbox',
    'hbox2rbox', 'hbox_xyxy2cxcywh', 'hbox_cxcywh2xyxy', 'norm_angle', 'regularize_rboxes',
    'convert_rbox_version', 'flip_rboxes', 'rotate_rboxes',
]
