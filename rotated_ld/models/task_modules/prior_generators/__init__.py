from .point_generator import MlvlPointGenerator  # noqa: F401
from .anchor_generator import AnchorGenerator, RotatedAnchorGenerator  # noqa: F401
