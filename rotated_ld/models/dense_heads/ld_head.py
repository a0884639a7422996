"""LD head: a GFL student distilled from a teacher's box distributions and class logits.

Localization Distillation (Zheng et al., CVPR 2022, arXiv 2102.12252; TPAMI 2023, arXiv 2204.05957).
Overrides only :meth:`GFLHead._extra_losses`; the maths lives in
:class:`rotated_ld.models.distillers.LDDistiller` (shared with the rotated LD heads).

Terms (ld-method.md §2–§6; every LD README row is a config of these weights):
``loss_ld`` Main LD (positives, weight ``w_i``, T 10, 0.25, Σ/4); ``loss_ld_vlr`` VLR LD (VLR, weight
IoU, T 10, 0.25, Σ/16); ``loss_kd`` Main KD on class logits (T 2, 10, per-level mean);
``loss_kd_vlr`` VLR KD (weight 0 by default); ``loss_im`` feature imitation
(``imitation_method``). Unlike mmdet's ``LDHead`` (Main LD only, issue mmdet#7394) all are here.
Teacher outputs come from :class:`KDSingleStageDetector` as ``teacher_outs`` (per-level
``(cls_scores, bbox_preds)``) and ``teacher_feats`` (teacher neck outputs).
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import torch
from torch import Tensor

from rotated_ld.registry import MODELS

from ..distillers import gibox_mask, imitation_mask
from ..distillers.distiller import DEFAULT_IM, DEFAULT_KD, DEFAULT_KD_VLR, DEFAULT_LD, DEFAULT_LD_VLR, DEFAULT_VLR
from ..task_modules.coders.distance_point_coder import distance2bbox
from ..utils import flatten_levels, reduce_mean
from .gfl_head import FlatOutputs, GFLHead, Targets


@MODELS.register_module()
class LDHead(GFLHead):
    """GFL head + localization distillation, logit KD and feature imitation.

    Args:
        num_classes, in_channels, **kwargs: as :class:`GFLHead`.
        loss_ld (dict | None): Main LD, default ``KnowledgeDistillationKLDivLoss`` 0.25, T 10.
        loss_ld_vlr (dict | None): VLR LD, default 0.25, T 10.
        loss_kd (dict | None): Main KD, default 10, T 2.
        loss_kd_vlr (dict | None): VLR KD, default weight 0, T 2.
        loss_im (dict | None): ``IMLoss`` (default weight 2.0), used with ``imitation_method``.
        imitation_method (str | None): ``fitnet | ingt | finegrained | decouple | gibox``.
        vlr (dict): ``VLRRegion`` config (topk 9, alpha 0.25, overlap ``'diou'`` or
            ``'iof_diou'``, exclude_pos True).
        distill_cfg (dict, optional): further :class:`LDDistiller` options: ``ld_normalize``
            (``'sum'`` reference | ``'mean'``), ``ld_divisor`` (4), ``ld_vlr_divisor`` (16),
            ``kd_normalize``, ``im_bg_weight`` (2).
        gibox_cfg (dict, optional): ``iou_threshold`` (0.3) and ``topk`` (10) of GI selection.
    """

    def __init__(self, num_classes: int, in_channels: int, *,
                 loss_ld: Optional[dict] = DEFAULT_LD, loss_ld_vlr: Optional[dict] = DEFAULT_LD_VLR,
                 loss_kd: Optional[dict] = DEFAULT_KD, loss_kd_vlr: Optional[dict] = DEFAULT_KD_VLR,
                 loss_im: Optional[dict] = DEFAULT_IM, imitation_method: Optional[str] = None,
                 vlr: Optional[dict] = DEFAULT_VLR, distill_cfg: Optional[dict] = None,
                 gibox_cfg: Optional[dict] = None, **kwargs: Any) -> None:
        super().__init__(num_classes, in_channels, **kwargs)
        self.distiller = MODELS.build(dict(
            type='LDDistiller', loss_ld=loss_ld, loss_ld_vlr=loss_ld_vlr, loss_kd=loss_kd,
            loss_kd_vlr=loss_kd_vlr, loss_im=loss_im, imitation_method=imitation_method, vlr=vlr,
            **(distill_cfg or {})))
        self.gibox_cfg = dict(iou_threshold=0.3, topk=10, **(gibox_cfg or {}))

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
        s_cls, s_reg = flat.cls_logits.reshape(B * A, C), flat.reg_logits.reshape(B * A, -1)
        t_cls, t_reg = t_cls.reshape(B * A, -1), t_reg.reshape(B * A, -1)
        pos_mask = targets.pos_mask.reshape(-1)
        pos_weight = s_reg.new_zeros(B * A)
        pos_weight[targets.pos_inds] = targets.pos_weights.float()
        level_ids = flat.level_ids.repeat(B)
        vlr_weight = self._vlr_weights(flat, targets) if d.needs_vlr else None
        s_f = t_f = im_mask = im_bg = None
        if d.needs_feats:
            if feats is None or teacher_feats is None:
                raise ValueError('feature imitation needs the student and teacher neck features')
            s_f, t_f = (flatten_levels(f).reshape(B * A, -1) for f in (feats, teacher_feats))
            im_mask = self._imitation_mask(flat, targets, s_cls, t_cls, s_reg, t_reg)
            im_bg = targets.valid_mask.reshape(-1) & ~im_mask  # decouple background, no padding
        avg = vlr_avg = None
        if d.ld_normalize == 'mean':
            avg = targets.weight_sum
            if vlr_weight is not None:
                vlr_avg = max(reduce_mean(vlr_weight.sum().detach()).item(), 1.0)
        return d(student_reg=s_reg, teacher_reg=t_reg, num_bins=self.reg_max + 1,
                 pos_mask=pos_mask, pos_weight=pos_weight, vlr_weight=vlr_weight,
                 student_cls=s_cls, teacher_cls=t_cls, level_ids=level_ids,
                 num_levels=len(flat.num_level_priors), student_feats=s_f, teacher_feats=t_f,
                 im_mask=im_mask, im_bg_mask=im_bg, avg_factor=avg, vlr_avg_factor=vlr_avg)

    @torch.no_grad()
    def _vlr_weights(self, flat: FlatOutputs, targets: Targets) -> Tensor:
        """(B·A,) VLR weights; per image over its valid priors, ATSS thresholds reused."""
        B, A = targets.pos_mask.shape
        out = flat.prior_boxes.new_zeros(B, A)
        for i in range(B):
            vidx = targets.valid_mask[i].nonzero().squeeze(1)
            gts = targets.batch_gt_instances[i].bboxes.to(out.device).float()
            nlp = torch.bincount(flat.level_ids[vidx], minlength=len(flat.num_level_priors))
            thr = targets.assign_results[i].thresholds
            out[i, vidx] = self.distiller.vlr(flat.prior_boxes[vidx], nlp.tolist(), gts,
                                              targets.pos_mask[i, vidx],
                                              thresholds=thr if thr.numel() == len(gts) else None)
        return out.reshape(-1)

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
