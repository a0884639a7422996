"""Models: importing this package registers every model part in ``rotated_ld.registry``.

Other packages append their imports below (distillers, LD heads, rotated heads).
"""
from . import distillers, layers, utils  # noqa: F401  (distillers registers LDDistiller, VLRRegion)
from .backbones import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .dense_heads import *  # noqa: F401,F403
from .detectors import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .task_modules import *  # noqa: F401,F403
