"""Rotated LD head: localization distillation of edges **and of the angle on the circle**.

:class:`RotatedGFLHead` plus the one distillation hook ``_extra_losses``; all maths lives in
:class:`rotated_ld.models.distillers.LDDistiller` (the same object the horizontal LD head and the
Rotated-LD RetinaNet use). Two distillers are built:

* ``distiller`` — edges and classes: Main LD on the 4 edge distributions (``loss_ld``, λ 0.25,
  T 10, weight ``w_i``), VLR LD (``loss_ld_vlr``, 0.25, T 10, weight = rotated IoU ``v_i``), Main KD
  (``loss_kd``, 10, T 2), VLR KD (``loss_kd_vlr``, 0 by default) — ld-method.md §2–4;
* ``angle_distiller`` — **angle LD** (``loss_ld_angle``, ``loss_ld_vlr_angle``):
  ``T_θ²·KL(softmax_{T_θ}(z_T) ‖ softmax_{T_θ}(z_S))`` summed over the ``K`` bins
  (``bin_reduction='sum'``), ``λ_θ = 0.015 ≈ 0.25/17`` (the per-distribution scale of one edge
  under the reference's mean-over-bins convention), ``T_θ = 5`` (angle peaks are sharper than
  edge peaks), divisor 1 on Main (one distribution per location, the edges' 4 cover 4) and 4 on
  the VLR (the edges' 16/4). KL is invariant to a common cyclic shift of the bins, so the circle
  needs no special handling once teacher and student share ``angle_version``, ``K`` and the bin
  origin (checked by ``KDSingleStageDetector``).

Switches (ablation edges-only / angle-only / both): ``distill_edges`` (Main/VLR LD on edges) and
``distill_angle`` (angle LD); KD is configured separately in ``distiller`` (``loss_kd``).
``angle_square_weight=True`` multiplies the angle LD weight of a positive by ``1 − h/w`` of its GT
(the angle of a near-square box is ill-defined); off by default.

VLR (ld-method.md §3, §9.3): rotated IoU between the prior's square box (a horizontal rbox) and
the GT rbox; rotated DIoU = IoU − ρ²/c² with ρ the centre distance and c the diagonal of the box
enclosing the prior and the GT's horizontal hull (``overlap='iof_diou'``: intersection over the
prior's area instead of IoU). The ATSS thresholds are the rotated assigner's.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Optional

from rotated_ld.registry import MODELS

from ..distillers import ANGLE_DISTILLER, GFL_DISTILLER, DistillRegions, distiller_cfg
from .gfl_head import Targets
from .rotated_gfl_head import RotatedFlatOutputs, RotatedGFLHead


@MODELS.register_module()
class RotatedLDHead(RotatedGFLHead):
    """Rotated GFL student head with edge LD, angle LD, KD and VLR (see module docstring).

    Args:
        num_classes, in_channels, **kwargs: as :class:`RotatedGFLHead`.
        distiller (dict): ``LDDistiller`` config for edges + classes (defaults above).
        angle_distiller (dict): ``LDDistiller`` config for the angle bins (``suffix='_angle'``).
        distill_edges (bool): Main/VLR LD on the edge distributions. Default True.
        distill_angle (bool | None): angle LD; ``None`` = on when the angle coder is a distribution
            (the plain-scalar baseline has nothing to distil). Default None.
        angle_square_weight (bool): weight angle LD by ``1 − h/w`` of the GT. Default False.

    The KD detector calls ``loss(feats, samples, teacher_outs=(cls, reg, angle) per-level lists)``.
    """

    def __init__(self, num_classes: int, in_channels: int, *, distiller: Optional[dict] = None,
                 angle_distiller: Optional[dict] = None, distill_edges: bool = True,
                 distill_angle: Optional[bool] = None, angle_square_weight: bool = False, **kwargs: Any):
        super().__init__(num_classes, in_channels, **kwargs)
        is_dist = self.angle_coder.is_distribution
        if distill_angle is None:
            distill_angle = is_dist
        if distill_angle and not is_dist:
            raise ValueError(f'distill_angle=True needs a distribution angle coder; got {self.angle_coder_type}')
        dcfg = distiller_cfg(dict(GFL_DISTILLER, loss_im=None), distiller)
        if not distill_edges:
            dcfg.update(loss_ld=None, loss_ld_vlr=None)
        # the VLR compares the prior's square box with the rotated GT (box_type='rbox')
        self.distiller = MODELS.build(dict(dcfg, box_type='rbox'))
        self.angle_distiller = None
        if distill_angle:
            self.angle_distiller = MODELS.build(dict(distiller_cfg(ANGLE_DISTILLER, angle_distiller),
                                                     box_type='rbox'))
        self.distill_edges, self.distill_angle = distill_edges, bool(distill_angle)
        self.angle_square_weight = angle_square_weight

    def distill_regions(self, flat: RotatedFlatOutputs, targets: Targets) -> DistillRegions:
        """Main, VLR and KD regions of a batch (``P = B·A`` rows; see :class:`DistillRegions`).

        One region set serves the edge and the angle distillers: the VLR is selected by the first
        of them with a VLR term (both are built from the same ``VLRRegion`` defaults).
        """
        owner = next((d for d in (self.distiller, self.angle_distiller) if d is not None and d.needs_vlr),
                     self.distiller)
        return owner.regions(self.region_inputs(flat, targets))

    def _extra_losses(self, flat: RotatedFlatOutputs, targets: Targets, teacher_outs=None,
                      **extra: Any) -> dict:
        """Edge LD, angle LD, KD (and VLR variants) against the teacher's outputs.

        Args:
            flat: student outputs (``cls_logits`` (B, A, C), ``reg_logits`` (B, A, 4R),
                ``angle_logits`` (B, A, K), priors, level ids).
            targets: after the core losses (``pos_mask``, ``pos_inds``, ``pos_weights`` ``w_i``,
                assign results with the rotated ATSS thresholds, internal GT boxes).
            teacher_outs: the teacher head's ``(cls_scores, bbox_preds, angle_preds)`` per-level lists.

        Returns:
            ``loss_ld``, ``loss_ld_vlr``, ``loss_kd``, ``loss_kd_vlr`` (edges / classes, as configured)
            and ``loss_ld_angle``, ``loss_ld_vlr_angle`` (angle), each a scalar.
        """
        if teacher_outs is None:
            raise ValueError('RotatedLDHead needs teacher_outs: train it inside KDSingleStageDetector')
        if len(teacher_outs) != 3:
            raise ValueError(f'teacher_outs has {len(teacher_outs)} entries; a rotated GFL teacher gives '
                             '(cls_scores, bbox_preds, angle_preds)')
        t_cls, t_reg, t_ang = self.flatten_outputs(*teacher_outs)
        num_imgs, num_priors, num_classes = flat.cls_logits.shape
        P = num_imgs * num_priors
        regions = self.distill_regions(flat, targets)
        losses = self.distiller(
            student_reg=flat.reg_logits.reshape(P, -1), teacher_reg=t_reg.reshape(P, -1),
            num_bins=self.reg_max + 1, regions=regions,
            student_cls=flat.cls_logits.reshape(P, -1), teacher_cls=t_cls.reshape(P, -1))
        if self.angle_distiller is not None:
            if self.angle_square_weight:
                box = targets.bbox_targets.reshape(P, 5)
                ratio = box[:, 3] / box[:, 2].clamp(min=1e-6)
                regions = replace(regions, main_weight=regions.main_weight * (1 - ratio.clamp(0, 1)))
            K = flat.angle_logits.shape[-1]
            losses.update(self.angle_distiller(
                student_reg=flat.angle_logits.reshape(P, K), teacher_reg=t_ang.reshape(P, -1),
                num_bins=K, regions=regions))
        return losses
