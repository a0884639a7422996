"""GFLv2 and its LD student: :class:`GFLHead` with the DGQP quality branch (defaults only).

Generalized Focal Loss V2 (Li et al., CVPR 2021, arXiv 2011.12885) = GFL + the distribution-guided
quality predictor (:class:`~.dgqp.DGQP`, module ``reg_conf``): the class score is ``σ(cls) · q`` with
``q`` predicted from the top-k statistics of the four edge distributions; QFL trains the joint score
as in GFL, and the quality weights of the box losses are ``max_c`` of the joint score (as GFocalV2's
``weight_targets = cls_score.detach().max(1)``). Outputs are those of :class:`GFLHead` — per level
``(B, C, H, W)`` class *log-odds of the joint score* and ``(B, 4R, H, W)`` edge logits — so inference,
LD and every tool treat a GFLv2 head like a GFL head.

``LDGFLv2Head`` is the LD student with this branch (HikariTJU/LD ``LDGFLv2Head`` / ``LDv2Head``): the
same LD engine and defaults as :class:`LDHead` (Main LD on the positives' box distributions, VLR LD,
Main KD; docs/ld.md "GFLv2"). The published LD GFLv2 configs use Main LD only.

Config keys of the GFocalV2 / LD repositories are accepted: ``reg_topk``, ``reg_channels``,
``add_mean`` at head level (→ ``quality_branch``), and ``loss_cls=dict(type='QualityFocalLoss',
use_sigmoid=False)`` (upstream's QFL on probabilities; here the same loss on the joint log-odds, so it
is built with ``use_sigmoid=True``).
"""
from __future__ import annotations

from typing import Any, Optional

from rotated_ld.registry import MODELS

from . import dgqp  # noqa: F401  (registers DGQP)
from .gfl_head import GFLHead
from .ld_head import ld_distiller_cfg

#: GFLv2 paper / GFocalV2 defaults
DGQP_DEFAULTS = dict(type='DGQP', reg_topk=4, reg_channels=64, add_mean=True)
_UPSTREAM_KEYS = ('reg_topk', 'reg_channels', 'add_mean')


def gflv2_kwargs(quality_branch: Optional[dict], head_kwargs: dict) -> dict:
    """``quality_branch`` of a GFLv2 head: :data:`DGQP_DEFAULTS` updated with the upstream head-level
    keys (popped from ``head_kwargs``) and the config's ``quality_branch``. Also turns upstream's
    ``loss_cls.use_sigmoid=False`` (QFL on probabilities) into the equivalent QFL on the joint
    log-odds this head returns."""
    cfg = dict(DGQP_DEFAULTS, **{k: head_kwargs.pop(k) for k in _UPSTREAM_KEYS if k in head_kwargs})
    cfg.update(quality_branch or {})
    loss_cls = head_kwargs.get('loss_cls')
    if loss_cls is not None and loss_cls.get('type') == 'QualityFocalLoss' and not loss_cls.get(
            'use_sigmoid', True):
        head_kwargs['loss_cls'] = dict(loss_cls, use_sigmoid=True)
    return cfg


@MODELS.register_module()
class GFLv2Head(GFLHead):
    """GFLv2 head: :class:`GFLHead` + DGQP (``reg_conf``).

    Args:
        num_classes, in_channels, **kwargs: as :class:`GFLHead` (plus ``reg_topk``, ``reg_channels``,
            ``add_mean`` as in GFocalV2 configs).
        quality_branch (dict, optional): over :data:`DGQP_DEFAULTS` (top-4 + mean, 64 hidden channels).

    Example:
        >>> import torch
        >>> head = GFLv2Head(3, 8, feat_channels=8, stacked_convs=1, norm_cfg=None, strides=(8,))
        >>> cls, reg = head([torch.zeros(1, 8, 4, 4)])
        >>> tuple(cls[0].shape), tuple(head.reg_conf[0].weight.shape)
        ((1, 3, 4, 4), (64, 20, 1, 1))
    """

    def __init__(self, num_classes: int, in_channels: int, *, quality_branch: Optional[dict] = None,
                 **kwargs: Any) -> None:
        super().__init__(num_classes, in_channels, quality_branch=gflv2_kwargs(quality_branch, kwargs), **kwargs)


@MODELS.register_module()
class LDGFLv2Head(GFLHead):
    """LD student with the GFLv2 quality branch: :class:`GFLv2Head`'s layers + :class:`LDHead`'s plug-in.

    Args:
        num_classes, in_channels, **kwargs: as :class:`GFLv2Head`.
        distiller (dict, optional): as :class:`LDHead` (over ``GFL_DISTILLER``; the older head-level
            keys ``loss_ld``, ``loss_ld_vlr``, ``loss_kd``, ... are accepted too).
        quality_branch (dict, optional): as :class:`GFLv2Head`.
        gibox_cfg (dict, optional): as :class:`LDHead`.
    """

    def __init__(self, num_classes: int, in_channels: int, *, distiller: Optional[dict] = None,
                 quality_branch: Optional[dict] = None, gibox_cfg: Optional[dict] = None,
                 **kwargs: Any) -> None:
        super().__init__(num_classes, in_channels, quality_branch=gflv2_kwargs(quality_branch, kwargs),
                         distiller=ld_distiller_cfg(distiller, kwargs), **kwargs)
        self.gibox_cfg.update(gibox_cfg or {})


# upstream type names: GFocalV2 / HikariTJU/LD ``GFocalHead`` (teacher), LD's newer ``LDv2Head``
MODELS.register_module(name='GFocalHead', module=GFLv2Head)
MODELS.register_module(name='LDv2Head', module=LDGFLv2Head)
