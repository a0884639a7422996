from .angle_coder import CircularAngleCoder, PlainAngleCoder  # noqa: F401
from .delta_xywha_coder import DeltaXYWHAOBBoxCoder  # noqa: F401
from .distance_angle_coder import DistanceAnglePointCoder  # noqa: F401
from .distance_point_coder import DistancePointBBoxCoder, bbox2distance, distance2bbox  # noqa: F401
from .distribution_delta import DistributionDelta  # noqa: F401
