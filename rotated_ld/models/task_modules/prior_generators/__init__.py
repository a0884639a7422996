from .anchor_generator import AnchorGenerator, FakeRotatedAnchorGenerator, RotatedAnchorGenerator  # noqa: F401
from .point_generator import MlvlPointGenerator  # noqa: F401
