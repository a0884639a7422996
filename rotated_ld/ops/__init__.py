
from .voting_nms import build_nms, cluster_diounms, voting_cluster_diou_nms, voting_cluster_diounms  # noqa: F401,E501
