"""Helpers shared by models: distributed mean, gt unpacking, level flattening, the NMS dispatcher."""
from .misc import (
    empty_instances,
    filter_scores_and_topk,
    flatten_levels,
    reduce_mean,
    unpack_gt_instances,
)
from .nms import get_nms, multiclass_nms, register_nms

__all__ = ['empty_instances', 'filter_scores_and_topk', 'flatten_levels', 'reduce_mean',
           'unpack_gt_instances', 'get_nms', 'multiclass_nms', 'register_nms']
