"""LD head: a GFL student distilled from a teacher's box distributions and class logits.

Localization Distillation (Zheng et al., CVPR 2022, arXiv 2102.12252; TPAMI 2023, arXiv 2204.05957).
Adds only the distillation hook to :class:`GFLHead`; regions and maths live in the LD engine
:class:`rotated_ld.models.distillers.LDDistiller` (the same class the rotated LD heads use).

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

from typing import Any, Optional, Sequence

import torch
from torch import Tensor

from rotated_ld.registry import MODELS

from ..distillers import GFL_DISTILLER, DistillRegions, distiller_cfg, gibox_mask, imitation_mask
from ..distillers.distiller import pop_gfl_head_keys
from ..task_modules.coders.distance_point_coder import distance2bbox
from ..utils import flatten_levels, reduce_mean
from .gfl_head import FlatOutputs, GFLHead, Targets


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
        legacy = pop_gfl_head_keys(kwargs)
        super().__init__(num_classes, in_channels, **kwargs)
        cfg = distiller_cfg(distiller_cfg(GFL_DISTILLER, legacy), distiller)
        self.distiller = MODELS.build(dict(cfg, box_type='hbox'))
        self.gibox_cfg = dict(iou_threshold=0.3, topk=10, **(gibox_cfg or {}))

    def distill_regions(self, flat: FlatOutputs, targets: Targets,
                        teacher_outs: Optional[Sequence[Sequence[Tensor]]] = None) -> DistillRegions:
        """Main, VLR, KD and imitation regions of a batch (``P = B·A`` rows; see :class:`DistillRegions`).

        ``teacher_outs`` is needed only by the ``gibox`` imitation (it depends on predictions);
        without it that mask is ``None``.
        """
        d = self.distiller
        regions = d.regions(self.region_inputs(flat, targets))
        if d.imitation_method is not None and (d.imitation_method != 'gibox' or teacher_outs is not None):
            B, A, C = flat.cls_logits.shape
            s_cls, s_reg = flat.cls_logits.reshape(B * A, C), flat.reg_logits.reshape(B * A, -1)
            t_cls, t_reg = ((t.reshape(B * A, -1) for t in self.flatten_outputs(*teacher_outs[:2]))
                            if teacher_outs is not None else (s_cls, s_reg))
            regions.im_mask = self._imitation_mask(flat, targets, s_cls, t_cls, s_reg, t_reg)
            # decouple background: every valid location outside the mask, padding left out
            regions.im_bg_mask = targets.valid_mask.reshape(-1) & ~regions.im_mask
        return regions

    def _extra_losses(self, flat: FlatOutputs, targets: Targets, *,
                      teacher_outs: Optional[Sequence[Sequence[Tensor]]] = None,
                      teacher_feats: Optional[Sequence[Tensor]] = None,
                      feats: Optional[Sequence[Tensor]] = None, **extra: Any) -> dict:
        """LD / KD / imitation losses (see the module docstring); ``P = B·A`` rows."""
        if teacher_outs is None:
            raise ValueError('LDHead needs teacher_outs: train it inside KDSingleStageDetector')
        d = self.distiller
        B, A, C = flat.cls_logits.shape
        t_cls, t_reg = self.flatten_outputs(*teacher_outs)
        regions = self.distill_regions(flat, targets, teacher_outs)
        s_f = t_f = None
        if d.needs_feats:
            if feats is None or teacher_feats is None:
                raise ValueError('feature imitation needs the student and teacher neck features')
            s_f, t_f = (flatten_levels(f).reshape(B * A, -1) for f in (feats, teacher_feats))
        avg = vlr_avg = None
        if d.ld_normalize == 'mean':
            avg = targets.weight_sum
            if regions.vlr_weight is not None:
                vlr_avg = max(reduce_mean(regions.vlr_weight.sum().detach()).item(), 1.0)
        return d(student_reg=flat.reg_logits.reshape(B * A, -1), teacher_reg=t_reg.reshape(B * A, -1),
                 num_bins=self.reg_max + 1, regions=regions, student_cls=flat.cls_logits.reshape(B * A, C),
                 teacher_cls=t_cls.reshape(B * A, -1), student_feats=s_f, teacher_feats=t_f,
                 avg_factor=avg, vlr_avg_factor=vlr_avg)

    @torch.no_grad()
    def _imitation_mask(self, flat: FlatOutputs, targets: Targets, s_cls: Tensor, t_cls: Tensor,
                        s_reg: Tensor, t_reg: Tensor) -> Tensor:
        """(B·A,) bool imitation rows (GT-defined masks per image, or GI boxes per image × level)."""
        B, A = targets.pos_mask.shape
        valid = targets.valid_mask.reshape(-1)
        if self.distiller.imitation_method == 'gibox':
            centers = (flat.priors[:, :2] / flat.priors[:, 2:]).repeat(B, 1)  # stride units
            boxes = [distance2bbox(centers, self.integral(r)) for r in (s_reg, t_reg)]
            group = torch.arange(B, device=valid.device).repeat_interleave(A) \
                * len(flat.num_level_priors) + flat.level_ids.repeat(B)
            group = torch.where(valid, group, group.new_full((), -1))
            sel = valid.nonzero().squeeze(1)
            mask = torch.zeros_like(valid)
            mask[sel] = gibox_mask(s_cls[sel], t_cls[sel], boxes[0][sel], boxes[1][sel],
                                   group[sel], **self.gibox_cfg)
            return mask
        mask = torch.zeros_like(targets.pos_mask)
        for i in range(B):
            vidx = targets.valid_mask[i].nonzero().squeeze(1)
            gts = targets.batch_gt_instances[i].bboxes.to(mask.device).float()
            iou = targets.assign_results[i].overlaps
            mask[i, vidx] = imitation_mask(self.distiller.imitation_method, flat.priors[vidx, :2],
                                           gts, iou)
        return mask.reshape(-1)
