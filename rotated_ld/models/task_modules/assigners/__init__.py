
from .rotated_atss_assigner import RotatedATSSAssigner  # noqa: F401
