"""rotated_ld: Localization Distillation for horizontal and rotated dense detectors.

Importing the package is cheap and does not import torch: subpackages (``rotated_ld.models``,
``rotated_ld.datasets``, ...) load on first access, so the data tools (split, label I/O, DOTA
evaluation, converters) start in well under a second. Registration happens when MMEngine resolves
the ``rotated_ld`` scope: it imports :mod:`rotated_ld.registry`, which installs the safe
checkpoint loader and the atomic checkpoint writer, and each registry imports its modules from
``locations`` on first use.
"""
from ._lazy import lazy_exports
from .version import __version__

__all__ = ['__version__']
__getattr__, __dir__ = lazy_exports(__name__, {})
