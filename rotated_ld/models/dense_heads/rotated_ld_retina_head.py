"""Rotated-LD head: localization distillation (LD) + logit KD on the rotated RetinaNet with
distribution deltas, as published (Zzh-tju/Rotated-LD ``LDRotatedRetinaHead``), with JDet's variant
(``ld_rotated_retinanet``) as a configuration. docs/rotated_retinanet.md.

The distillation is the LD engine's (:class:`rotated_ld.models.distillers.LDDistiller`, defaults
:data:`~rotated_ld.models.distillers.ROTATED_LD_RETINA_DISTILLER`):

* **LD**: on every one of the 5 delta distributions (dx, dy, dw, dh, da; ``reg_max + 1`` bins),
  ``Σ_i w_i · Σ_e KL_ie`` with the project's one KL (``T²·KL(softmax(t/T) ‖ softmax(s/T))``, fp32,
  teacher detached, averaged over the bins as the references), 15, T 5;
* **KD**: on the ``C`` class logits (softmax across classes), ``Σ_i w_i · KL_i``, 15, T 5;
* **region** (:class:`~rotated_ld.models.distillers.RotatedLDRegion`): priors whose axis-aligned IoU
  with a GT (angle ignored, as the reference) is ≥ 0.25 × its ATSS threshold, weight = that IoU;
  ``'level_mean'``: each level's sum divided by the number of region priors of that level in the
  batch (the reference computes the loss per level with ``avg_factor`` = that number);
* ``ld_da`` (logged, not optimised): the part of ``loss_ld`` that comes from the angle delta.

JDet: ``distiller=dict(region=None, kd_region='labelled', ld_normalize='mean', kd_normalize='mean')``
— LD on the max-IoU positives with weight 1, KD on every prior with label weight > 0, element-wise
means (LD ``Σ_i Σ_e KL_ie / (5·#pos)``, KD ``Σ_i KL_i / #rows``).

Config: ``distiller=dict(...)`` merged over the defaults; the keys this head took before
(``loss_ld``, ``loss_kd``, ``region``, ``region_alpha``, ``region_topk``, ``region_gt``,
``normalize``) are still accepted and translated (``distillers.distiller.pop_retina_head_keys``).
"""
from __future__ import annotations

from typing import Optional

import torch

from rotated_ld.registry import MODELS

from ..distillers import ROTATED_LD_RETINA_DISTILLER, DistillRegions, RegionInputs, distiller_cfg
from ..distillers.distiller import pop_retina_head_keys
from .rotated_retina_head import FlatOutputs, RetinaTargets, RotatedRetinaHead


@MODELS.register_module()
class RotatedLDRetinaHead(RotatedRetinaHead):
    """Student head of Rotated-LD: :class:`RotatedRetinaHead` + the LD engine (see module docstring).

    Args:
        distiller (dict, optional): :class:`LDDistiller` options over ``ROTATED_LD_RETINA_DISTILLER``.
        **kwargs: :class:`RotatedRetinaHead` arguments; ``reg_max`` must be set.
    """

    def __init__(self, *args, distiller: Optional[dict] = None, **kwargs) -> None:
        legacy = pop_retina_head_keys(kwargs)
        super().__init__(*args, **kwargs)
        if self.reg_max is None:
            raise ValueError('RotatedLDRetinaHead distils delta distributions: set reg_max (8 as the references)')
        cfg = distiller_cfg(distiller_cfg(ROTATED_LD_RETINA_DISTILLER, legacy), distiller)
        self.distiller = MODELS.build(dict(cfg, box_type='rbox'))

    def region_inputs(self, flat: FlatOutputs, targets: RetinaTargets) -> RegionInputs:
        """What the LD engine needs: anchors (N, 5), GTs in the head's angle version, positives
        (weight 1), label weights; no padding mask and no assigner thresholds (max-IoU assigner)."""
        nlp = list(flat.num_level_priors)
        level_ids = torch.repeat_interleave(torch.arange(len(nlp), device=flat.priors.device),
                                            torch.as_tensor(nlp, device=flat.priors.device))
        return RegionInputs(flat.priors, nlp, level_ids, list(targets.gt_bboxes), targets.pos_mask,
                            targets.pos_mask.float(), label_weights=targets.label_weights)

    def distill_regions(self, flat: FlatOutputs, targets: RetinaTargets) -> DistillRegions:
        """LD (``main_*``) and KD (``kd_*``) regions of a batch, ``P = B·N`` rows."""
        return self.distiller.regions(self.region_inputs(flat, targets))

    def _extra_losses(self, flat: FlatOutputs, targets: RetinaTargets, teacher_outs=None, **extra) -> dict:
        """``loss_ld`` and ``loss_kd`` against the teacher head's outputs ``(cls_list, reg_list)``, plus
        ``ld_da`` (logged, not optimised): the part of ``loss_ld`` that comes from the angle delta."""
        if teacher_outs is None:
            raise ValueError('RotatedLDRetinaHead.loss needs teacher_outs (train it inside KDSingleStageDetector)')
        t_cls, t_reg = self.flatten(*teacher_outs[:2])
        if t_reg.shape != flat.reg.shape or t_cls.shape != flat.cls.shape:
            raise ValueError(f'teacher outputs cls {tuple(t_cls.shape)} / reg {tuple(t_reg.shape)} differ from '
                             f'the student\'s {tuple(flat.cls.shape)} / {tuple(flat.reg.shape)}: teacher and '
                             'student must share anchors, reg_max and classes')
        regions = self.distill_regions(flat, targets)
        B, N, C = flat.cls.shape
        # 'mean' divides by the number of region rows (JDet's element mean), not by Σ weight
        avg = regions.main_mask.sum().float() if self.distiller.ld_normalize == 'mean' else None
        return self.distiller(student_reg=flat.reg.reshape(B * N, -1), teacher_reg=t_reg.reshape(B * N, -1),
                              num_bins=self.reg_max + 1, regions=regions,
                              student_cls=flat.cls.reshape(B * N, C), teacher_cls=t_cls.reshape(B * N, C),
                              avg_factor=avg)
