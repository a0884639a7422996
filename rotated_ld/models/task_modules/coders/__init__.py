
from .angle_coder import CircularAngleCoder, PlainAngleCoder  # noqa: F401
from .distance_angle_coder import DistanceAnglePointCoder  # noqa: F401
from .delta_xywha_coder import DeltaXYWHAOBBoxCoder  # noqa: F401
from .distribution_delta import DistributionDelta  # noqa: F401
