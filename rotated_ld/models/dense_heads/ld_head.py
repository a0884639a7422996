"""LD head: a GFL student distilled from a teacher's box distributions and class logits.

Localization Distillation (Zheng et al., CVPR 2022, arXiv 2102.12252; TPAMI 2023, arXiv 2204.05957).
The one distribution head :class:`GFLHead` with its LD plug-in set to the GFL defaults; regions and
maths live in the LD engine :class:`rotated_ld.models.distillers.LDDistiller` (the same class the
rotated LD heads use). This class only sets defaults and translates the older config keys.

Terms (docs/ld.md; every LD README row is a config of these weights): ``loss_ld`` Main LD (positives,
weight ``w_i``, T 10, 0.25, Σ/4); ``loss_ld_vlr`` VLR LD (VLR, weight IoU, T 10, 0.25, Σ/16);
``loss_kd`` Main KD on class logits (T 2, 10, per-level mean); ``loss_kd_vlr`` VLR KD (weight 0 by
default); ``loss_im`` feature imitation (``imitation_method``). Unlike mmdet's ``LDHead`` (Main LD
only, issue mmdet#7394) all are here. Teacher outputs come from :class:`KDSingleStageDetector` as
``teacher_outs`` (per-level ``(cls_scores, bbox_preds)``) and ``teacher_feats`` (teacher neck outputs).

Config: ``distiller=dict(loss_ld=..., loss_ld_vlr=..., loss_kd=..., vlr=..., imitation_method=...)``
merged over :data:`~rotated_ld.models.distillers.GFL_DISTILLER`; the keys LDHead took before
(``loss_ld``, ``loss_ld_vlr``, ``loss_kd``, ``loss_kd_vlr``, ``loss_im``, ``imitation_method``, ``vlr``,
``distill_cfg``) are still accepted at the head level and translated into it.
"""
from __future__ import annotations

from typing import Any, Optional

from rotated_ld.registry import MODELS

from ..distillers import GFL_DISTILLER, distiller_cfg
from ..distillers.distiller import pop_gfl_head_keys
from .gfl_head import GFLHead


@MODELS.register_module()
class LDHead(GFLHead):
    """GFL head + localization distillation, logit KD and feature imitation.

    Args:
        num_classes, in_channels, **kwargs: as :class:`GFLHead`.
        distiller (dict, optional): :class:`LDDistiller` options over ``GFL_DISTILLER``:
            ``loss_ld`` (0.25, T 10), ``loss_ld_vlr`` (0.25, T 10), ``loss_kd`` (10, T 2),
            ``loss_kd_vlr`` (0, T 2), ``loss_im`` (``IMLoss`` 2.0), ``imitation_method``
            (``fitnet | ingt | finegrained | decouple | gibox``), ``vlr`` (``VLRRegion``),
            ``ld_normalize``, ``ld_divisor``, ``ld_vlr_divisor``, ``kd_normalize``, ``im_bg_weight``.
        gibox_cfg (dict, optional): ``iou_threshold`` (0.3) and ``topk`` (10) of GI selection.
    """

    def __init__(self, num_classes: int, in_channels: int, *, distiller: Optional[dict] = None,
                 gibox_cfg: Optional[dict] = None, **kwargs: Any) -> None:
        super().__init__(num_classes, in_channels, distiller=ld_distiller_cfg(distiller, kwargs), **kwargs)
        self.gibox_cfg.update(gibox_cfg or {})


def ld_distiller_cfg(distiller: Optional[dict], head_kwargs: dict) -> dict:
    """The LD plug-in config of a GFL-family LD head: :data:`GFL_DISTILLER`, updated with the older
    head-level keys (popped from ``head_kwargs``), then with the config's ``distiller=dict(...)``."""
    legacy = pop_gfl_head_keys(head_kwargs)
    return distiller_cfg(distiller_cfg(GFL_DISTILLER, legacy), distiller)
