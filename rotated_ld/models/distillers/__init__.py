"""Distillation pieces shared by the horizontal and rotated LD heads (see ld-method.md).

``functional``: row-wise temperature KL (fp32); ``regions``: Main weights, VLR (``VLRRegion``,
registered in TASK_UTILS); ``imitation``: feature-imitation masks; ``distiller``: ``LDDistiller``
(registered in MODELS) that turns flattened student/teacher rows + regions into the loss dict.
"""
from .distiller import LDDistiller
from .functional import distribution_kl, level_mean, weighted_reduce
from .imitation import (
                        IMITATION_METHODS,
                        canonical_imitation_method,
                        finegrained_mask,
                        gibox_mask,
                        imitation_mask,
                        inside_gt_mask,
)
from .regions import (
                        VLRRegion,
                        atss_thresholds,
                        box_centers,
                        hbox_iou_diou,
                        quality_weights,
                        vlr_weights_from_overlaps,
)

__all__ = [
    'LDDistiller', 'distribution_kl', 'level_mean', 'weighted_reduce', 'IMITATION_METHODS',
    'canonical_imitation_method', 'finegrained_mask', 'gibox_mask', 'imitation_mask',
    'inside_gt_mask', 'VLRRegion', 'atss_thresholds', 'box_centers', 'hbox_iou_diou',
    'quality_weights', 'vlr_weights_from_overlaps'
]
