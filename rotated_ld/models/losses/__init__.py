
from .im_loss import IMLoss  # noqa: F401
from .kd_loss import KnowledgeDistillationKLDivLoss  # noqa: F401
from .rotated_iou_loss import CircularDFLoss, RotatedIoULoss  # noqa: F401
from .gaussian_loss import GDLoss, GDLossV1  # noqa: F401
