"""rotated_ld: Localization Distillation for horizontal and rotated dense detectors."""
from . import utils  # noqa: F401  (installs the safe checkpoint loader into MMEngine)
from .engine import atomic_save  # noqa: F401  (checkpoints written atomically)
from .version import __version__

__all__ = ['__version__']
