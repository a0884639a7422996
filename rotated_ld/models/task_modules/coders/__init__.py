
from .angle_coder import CircularAngleCoder, PlainAngleCoder  # noqa: F401
from .distance_angle_coder import DistanceAnglePointCoder  # noqa: F401
