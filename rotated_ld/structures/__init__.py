"""Data structures: :class:`DetDataSample` and the box geometry (``bbox/``).

``bbox`` is torch-free (numpy arrays or tensors); ``DetDataSample`` needs MMEngine and torch and
is imported on first use, so ``from rotated_ld.structures.bbox import ...`` stays torch-free.
"""
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
                   rescale_rboxes,
                   rotate_rboxes,
)

_LAZY = {'DetDataSample', 'SampleList'}


def __getattr__(name: str):
    # PEP 562: DetDataSample pulls in MMEngine and torch, which the torch-free tools must not load
    if name in _LAZY:
        from . import det_data_sample  # local: DetDataSample imports torch; structures stays torch-free (PEP 562)

        return getattr(det_data_sample, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


__all__ = [
    'DetDataSample', 'SampleList', 'ANGLE_VERSIONS', 'rbox2poly', 'poly2rbox', 'rbox2hbox',
    'hbox2rbox', 'hbox_xyxy2cxcywh', 'hbox_cxcywh2xyxy', 'norm_angle', 'regularize_rboxes',
    'convert_rbox_version', 'flip_rboxes', 'rotate_rboxes', 'rescale_rboxes',
]
