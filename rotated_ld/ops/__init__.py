
from .voting_nms import build_nms, voting_cluster_diou_nms  # noqa: F401
