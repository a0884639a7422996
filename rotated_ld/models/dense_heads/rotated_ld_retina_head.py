"""Rotated-LD head: localization distillation (LD) + logit KD on the rotated RetinaNet with
distribution deltas, as published (Zzh-tju/Rotated-LD ``LDRotatedRetinaHead``), with JDet's variant
(``ld_rotated_retinanet``) as a configuration. docs/rotated_retinanet.md.

The distillation is the LD plug-in of :class:`RotatedRetinaHead`, i.e. the LD engine's
(:class:`rotated_ld.models.distillers.LDDistiller`, defaults
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

from rotated_ld.registry import MODELS

from ..distillers import ROTATED_LD_RETINA_DISTILLER, distiller_cfg
from ..distillers.distiller import pop_retina_head_keys
from .rotated_retina_head import RotatedRetinaHead


@MODELS.register_module()
class RotatedLDRetinaHead(RotatedRetinaHead):
    """Student head of Rotated-LD: :class:`RotatedRetinaHead` with its LD plug-in set (see module docstring).

    Args:
        distiller (dict, optional): :class:`LDDistiller` options over ``ROTATED_LD_RETINA_DISTILLER``.
        **kwargs: :class:`RotatedRetinaHead` arguments; ``reg_max`` must be set.
    """

    def __init__(self, *args, distiller: Optional[dict] = None, **kwargs) -> None:
        legacy = pop_retina_head_keys(kwargs)
        cfg = distiller_cfg(distiller_cfg(ROTATED_LD_RETINA_DISTILLER, legacy), distiller)
        super().__init__(*args, distiller=cfg, **kwargs)
