from .atss_assigner import AssignResult, ATSSAssigner, atss_candidates, atss_threshold  # noqa: F401
from .fcos_assigner import FCOSAssigner, fcos_candidates  # noqa: F401
from .max_iou_assigner import MaxIoUAssigner, MaxIoUAssignResult  # noqa: F401
from .rotated_atss_assigner import RotatedATSSAssigner  # noqa: F401
