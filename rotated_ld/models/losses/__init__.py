"""Losses; importing registers them in MODELS (other helpers append their imports below)."""
from .cross_entropy_loss import CrossEntropyLoss  # noqa: F401
from .dfl import DistributionFocalLoss, distribution_focal_loss  # noqa: F401
from .focal_loss import FocalLoss, sigmoid_focal_loss  # noqa: F401
from .gaussian_loss import GDLoss, GDLossV1  # noqa: F401
from .im_loss import IMLoss  # noqa: F401
from .iou_loss import CIoULoss, DIoULoss, GIoULoss, IoULoss, aligned_box_overlaps  # noqa: F401
from .kd_loss import KnowledgeDistillationKLDivLoss, distribution_kl  # noqa: F401
from .l1_loss import L1Loss  # noqa: F401
from .quality_focal_loss import QualityFocalLoss, quality_focal_loss  # noqa: F401
from .rotated_iou_loss import CircularDFLoss, RotatedIoULoss  # noqa: F401
from .utils import ReducedLoss, weight_reduce_loss  # noqa: F401
