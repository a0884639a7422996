"""LD RetinaNet student (HikariTJU/LD ``LDRetinaHead``, ``configs/ld/ld_retina_r50_1x.py``).

:class:`RetinaGFLHead`'s head (the one RetinaNet anchor head with ``box_type='hbox'``) with its LD
plug-in set to :data:`~rotated_ld.models.distillers.LD_RETINA_DISTILLER`; the regions and the maths
are the LD engine's (:class:`~rotated_ld.models.distillers.LDDistiller`), as for every LD head.
The upstream rules (docs/ld.md, "RetinaNet students"):

* ``loss_ld`` — Main LD on the max-IoU positives, weight ``max_c σ(cls)`` (``ld_main_weight=
  'quality'``), ``Σ / 4``, 5, T 10;
* ``loss_ld_vlr`` — upstream's ``loss_ld_neg``: the VLR of the anchors (ATSS threshold over the 9
  nearest anchors per level, ``0.25·thr ≤ D < thr``, positives removed, weight = IoU), ``Σ / 4``,
  ``0.03 × 5 = 0.15``, T 10;
* ``loss_kd`` — upstream's ``loss_cls_kd``: KD on the class logits of the positives, Σ over levels
  of the level mean, 10, T 8;
* the KL of an anchor is over all its ``4·17`` edge bins at once (``ld_softmax='joint'``, as the
  upstream head passes the whole row); ``ld_softmax='per_distribution'`` is one KL per edge (the
  paper's LD; about 15 times larger: scale ``loss_ld`` by about 1/15 to keep the magnitude).

Config: ``distiller=dict(...)`` merged over the defaults; ``loss_ld`` / ``loss_kd`` at the head level
(the upstream config's keys) are accepted too.
"""
from __future__ import annotations

from typing import Optional

from rotated_ld.registry import MODELS

from ..distillers import LD_RETINA_DISTILLER, distiller_cfg
from ..distillers.distiller import pop_gfl_head_keys
from .anchor_coding import HBOX_RETINA_DEFAULTS
from .rotated_retina_head import RotatedRetinaHead

#: what the LD student changes over ``RetinaGFLHead``'s defaults (upstream LDRetinaHead)
LD_RETINA_HEAD_DEFAULTS = dict(HBOX_RETINA_DEFAULTS, ld_main_weight='quality', ld_softmax='joint')


@MODELS.register_module()
class LDRetinaHead(RotatedRetinaHead):
    """Horizontal RetinaNet LD student with edge distributions (see module docstring).

    Args:
        distiller (dict, optional): :class:`LDDistiller` options over ``LD_RETINA_DISTILLER``.
        **kwargs: ``RetinaGFLHead`` arguments (``ld_main_weight``, ``ld_softmax`` of
            :class:`RotatedRetinaHead` default to ``'quality'`` / ``'joint'``).
    """

    default_box_type = 'hbox'

    def __init__(self, *args, distiller: Optional[dict] = None, **kwargs) -> None:
        legacy = pop_gfl_head_keys(kwargs)
        cfg = distiller_cfg(distiller_cfg(LD_RETINA_DISTILLER, legacy), distiller)
        super().__init__(*args, distiller=cfg, **{**LD_RETINA_HEAD_DEFAULTS, **kwargs})
