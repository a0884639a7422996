"""The LD engine shared by every LD head (docs/ld.md).

``regions``: region strategies (Main = positives, :class:`VLRRegion`, the published
:class:`RotatedLDRegion`) with their horizontal and rotated overlaps, and the records a head fills
(:class:`RegionInputs`) and gets back (:class:`DistillRegions`); ``imitation``: feature-imitation
masks; ``distiller``: :class:`LDDistiller` (registered in MODELS), the defaults of the three LD
families, written once. The KL itself and the loss reduction live in ``models/losses``.
"""
from .distiller import (
                        ANGLE_DISTILLER,
                        ATSS_DISTILLER,
                        FCOS_DISTILLER,
                        GFL_DISTILLER,
                        LD_RETINA_DISTILLER,
                        ROTATED_LD_RETINA_DISTILLER,
                        LDDistiller,
                        distiller_cfg,
                        level_mean,
)
from .imitation import (
                        IMITATION_METHODS,
                        canonical_imitation_method,
                        finegrained_mask,
                        gibox_mask,
                        imitation_mask,
                        inside_gt_mask,
)
from .regions import (
                        DistillRegions,
                        InsideGTRegion,
                        RegionInputs,
                        RotatedLDRegion,
                        VLRRegion,
                        atss_thresholds,
                        box_centers,
                        hbox_iou_diou,
                        overlap_fn,
                        quality_weights,
                        rbox_axis_boxes,
                        rbox_iou_diou,
                        vlr_weights_from_overlaps,
)

__all__ = [
    'LDDistiller', 'GFL_DISTILLER', 'ANGLE_DISTILLER', 'ROTATED_LD_RETINA_DISTILLER', 'LD_RETINA_DISTILLER',
    'ATSS_DISTILLER', 'FCOS_DISTILLER', 'InsideGTRegion', 'distiller_cfg',
    'level_mean', 'IMITATION_METHODS', 'canonical_imitation_method', 'finegrained_mask', 'gibox_mask',
    'imitation_mask', 'inside_gt_mask', 'DistillRegions', 'RegionInputs', 'RotatedLDRegion',
    'VLRRegion', 'atss_thresholds', 'box_centers', 'hbox_iou_diou', 'overlap_fn', 'quality_weights',
    'rbox_axis_boxes', 'rbox_iou_diou', 'vlr_weights_from_overlaps'
]
