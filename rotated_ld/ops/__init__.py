"""Ops on plain tensors: exact rotated IoU / polygon IoU, rotated NMS, Cluster-DIoU-NMS with score
voting (pure PyTorch, any device). Selecting an NMS by config name is
:mod:`rotated_ld.models.utils.nms`'s job, not this package's.

Horizontal ops: use ``torchvision.ops`` (``box_iou``, ``batched_nms``) directly.
"""
from .iou_rotated import box_iou_rotated, rbox_intersection_aligned
from .nms_rotated import batched_nms_rotated, multiclass_nms_rotated, nms_rotated
from .poly_iou import POLY_IOU_STATS, poly_iou
from .rotated_voting_nms import align_rboxes_to, rotated_score_voting, rotated_voting_nms
from .voting_nms import voting_cluster_diou_nms, voting_cluster_diounms_rotated

__all__ = [
    'box_iou_rotated', 'rbox_intersection_aligned', 'poly_iou', 'POLY_IOU_STATS',
    'nms_rotated', 'batched_nms_rotated', 'multiclass_nms_rotated',
    'rotated_voting_nms', 'rotated_score_voting', 'align_rboxes_to',
    'voting_cluster_diou_nms', 'voting_cluster_diounms_rotated',
]
