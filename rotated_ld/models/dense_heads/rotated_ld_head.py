"""Rotated LD head: localization distillation of edges **and of the angle on the circle**.

The one distribution head :class:`GFLHead` with the rotated geometry (``box_type='rbox'``) and two
LD plug-ins; all maths lives in :class:`rotated_ld.models.distillers.LDDistiller` (the same class the
horizontal LD head and the Rotated-LD RetinaNet use). This class only sets defaults. Two distillers:

* ``distiller`` — edges and classes: Main LD on the 4 edge distributions (``loss_ld``, λ 0.25,
  T 10, weight ``w_i``), VLR LD (``loss_ld_vlr``, 0.25, T 10, weight = rotated IoU ``v_i``), Main KD
  (``loss_kd``, 10, T 2), VLR KD (``loss_kd_vlr``, 0 by default) (``GFL_DISTILLER``);
* ``angle_distiller`` — **angle LD** (``loss_ld_angle``, ``loss_ld_vlr_angle``):
  ``T_θ²·KL(softmax_{T_θ}(z_T) ‖ softmax_{T_θ}(z_S))`` summed over the ``K`` bins
  (``bin_reduction='sum'``), ``λ_θ = 0.015 ≈ 0.25/17`` (the per-distribution scale of one edge
  under the reference's mean-over-bins convention), ``T_θ = 5`` (angle peaks are sharper than
  edge peaks), divisor 1 on Main (one distribution per location, the edges' 4 cover 4) and 4 on
  the VLR (the edges' 16/4). KL is invariant to a common cyclic shift of the bins, so the circle
  needs no special handling once teacher and student share ``angle_version``, ``K`` and the bin
  origin (checked by ``KDSingleStageDetector``). Defaults: ``ANGLE_DISTILLER``.

Switches (ablation edges-only / angle-only / both): ``distill_edges`` (Main/VLR LD on edges) and
``distill_angle`` (angle LD); KD is configured separately in ``distiller`` (``loss_kd``).
``angle_square_weight=True`` multiplies the angle LD weight of a positive by ``1 − h/w`` of its GT
(the angle of a near-square box is ill-defined); off by default.

VLR (docs/rotated_ld.md): rotated IoU between the prior's square box (a horizontal rbox) and
the GT rbox; rotated DIoU = IoU − ρ²/c² with ρ the centre distance and c the diagonal of the box
enclosing the prior and the GT's horizontal hull (``overlap='iof_diou'``: intersection over the
prior's area instead of IoU). The ATSS thresholds are the rotated assigner's.
"""
from __future__ import annotations

from typing import Any, Optional

from rotated_ld.registry import MODELS

from ..distillers import ANGLE_DISTILLER, GFL_DISTILLER, distiller_cfg
from .gfl_head import GFLHead


@MODELS.register_module()
class RotatedLDHead(GFLHead):
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

    default_box_type = 'rbox'

    def __init__(self, num_classes: int, in_channels: int, *, distiller: Optional[dict] = None,
                 angle_distiller: Optional[dict] = None, distill_edges: bool = True,
                 distill_angle: Optional[bool] = None, angle_square_weight: bool = False, **kwargs: Any):
        dcfg = distiller_cfg(dict(GFL_DISTILLER, loss_im=None), distiller)
        if not distill_edges:
            dcfg.update(loss_ld=None, loss_ld_vlr=None)
        super().__init__(num_classes, in_channels, distiller=dcfg, **kwargs)
        is_dist = self.angle_coder.is_distribution
        if distill_angle is None:
            distill_angle = is_dist
        if distill_angle and not is_dist:
            raise ValueError(f'distill_angle=True needs a distribution angle coder; got {self.angle_coder_type}')
        if distill_angle:
            self.angle_distiller = MODELS.build(dict(distiller_cfg(ANGLE_DISTILLER, angle_distiller),
                                                     box_type='rbox'))
        self.distill_edges, self.distill_angle = distill_edges, bool(distill_angle)
        self.angle_square_weight = angle_square_weight
