"""The LD repository's ATSS and FCOS heads with a GFL distribution box branch, and their LD students.

Configurations of the one distribution head :class:`~.gfl_head.GFLHead` (one class each so the
upstream type names ``ATSSGFLHead`` / ``LDATSSHead`` / ``FCOSGFLHead`` / ``LDFCOSHead`` resolve;
every method is GFLHead's):

* **ATSS** (HikariTJU/LD ``atss_gfl_head.py``): square anchors of side 8·stride (offset 0), ATSS
  assignment, ``quality_mode='centerness'`` — focal classification, centerness branch on the
  regression tower, box loss GIoU 2.0 weighted by the centerness targets, no DFL (the reference
  trains the distribution through the integral only), test score ``σ(cls)·σ(centerness)``.
* **FCOS** (``fcos_gfl_head.py``, configs ``fcos_gfl_r50_center.py``): points at ``(i + 0.5)·stride``
  (``prior_offset=0.5``), :class:`~rotated_ld.models.task_modules.FCOSAssigner` with centre
  sampling (radius 1.5) and the FCOS regression ranges, GIoU 1.0, otherwise as ATSS.
* **LD students** (``ld_atss.py`` / ``ld_fcos_head.py``): :data:`ATSS_DISTILLER` /
  :data:`FCOS_DISTILLER` — Main LD (0.25, T 10, quality-weighted positives, Σ/4), Main KD (10, T 2)
  and ``loss_ld_neg`` on the remaining negatives (ATSS: the VLR at 0.15×; FCOS: points inside a GT
  that are not positive, weighted by the student quality, at 0.25×; both Σ/4).

Outputs per level: ``cls_scores`` (B, C, H, W), ``bbox_preds`` (B, 4·(reg_max+1), H, W),
``centernesses`` (B, 1, H, W); boxes xyxy pixels.
"""
from __future__ import annotations

from typing import Any, Optional

from rotated_ld.registry import MODELS

from ..distillers import ATSS_DISTILLER, FCOS_DISTILLER, distiller_cfg
from ..distillers.distiller import pop_gfl_head_keys
from .gfl_head import GFLHead

_FOCAL = {'type': 'FocalLoss', 'use_sigmoid': True, 'gamma': 2.0, 'alpha': 0.25, 'loss_weight': 1.0}
_CE = {'type': 'CrossEntropyLoss', 'use_sigmoid': True, 'loss_weight': 1.0}
#: ATSS-GFL head defaults (LD repo ``configs/gfl/atss_gfl_r50_1x.py``)
ATSS_GFL_DEFAULTS = dict(quality_mode='centerness', loss_cls=_FOCAL, loss_dfl=None,
                         loss_bbox={'type': 'GIoULoss', 'loss_weight': 2.0}, loss_centerness=_CE)
#: FCOS-GFL head defaults (LD repo ``configs/gfl/fcos_gfl_r50_center.py``)
FCOS_GFL_DEFAULTS = dict(ATSS_GFL_DEFAULTS, prior_offset=0.5,
                         loss_bbox={'type': 'GIoULoss', 'loss_weight': 1.0})
# upstream keys with no effect on this head's maths (they describe mmdet 2.x internals)
_UPSTREAM_FCOS_KEYS = {'norm_on_bbox': False, 'centerness_on_reg': True, 'dcn_on_last_conv': False}
# upstream head-level assignment keys, moved into the default FCOSAssigner
_FCOS_ASSIGN_KEYS = ('center_sampling', 'center_sample_radius', 'regress_ranges')


def _head_kwargs(defaults: dict, kwargs: dict, fcos: bool = False) -> dict:
    """``defaults`` under ``kwargs``; FCOS: default ``FCOSAssigner`` and the upstream switches checked."""
    out = {**defaults, **kwargs}
    if not fcos:
        return out
    for key, value in _UPSTREAM_FCOS_KEYS.items():
        if out.pop(key, value) != value:
            raise ValueError(f'{key}={kwargs[key]!r} is not supported by FCOSGFLHead (only {key}={value})')
    given = {k: out.pop(k) for k in _FCOS_ASSIGN_KEYS if k in out}
    out.pop('conv_bias', None)  # GN towers without conv bias, as GFL (docs/ld.md)
    train_cfg = dict(out.get('train_cfg') or {})
    if 'assigner' not in train_cfg or train_cfg['assigner'].get('type') == 'MaxIoUAssigner':
        # the upstream FCOS configs carry an unused MaxIoUAssigner: FCOS assigns by its own rule
        train_cfg['assigner'] = dict(type='FCOSAssigner', strides=list(out.get('strides', (8, 16, 32, 64, 128))),
                                     **given)
    elif given:
        raise ValueError(f'{sorted(given)} given at the head level and train_cfg.assigner='
                         f"{train_cfg['assigner'].get('type')}: set them in train_cfg.assigner")
    out['train_cfg'] = train_cfg
    return out


def _ld_kwargs(base: dict, distiller: Optional[dict], kwargs: dict) -> dict:
    """``distiller`` merged over ``base`` and the upstream head-level LD keys (``loss_ld``, ``loss_kd``)."""
    return distiller_cfg(distiller_cfg(base, pop_gfl_head_keys(kwargs)), distiller)


@MODELS.register_module()
class ATSSGFLHead(GFLHead):
    """ATSS head with a distribution box branch (module docstring); args as :class:`GFLHead`."""

    def __init__(self, num_classes: int, in_channels: int, **kwargs: Any) -> None:
        super().__init__(num_classes, in_channels, **_head_kwargs(ATSS_GFL_DEFAULTS, kwargs))


@MODELS.register_module()
class LDATSSHead(GFLHead):
    """ATSS-GFL LD student: :class:`ATSSGFLHead` + ``distiller`` over :data:`ATSS_DISTILLER`."""

    def __init__(self, num_classes: int, in_channels: int, *, distiller: Optional[dict] = None,
                 **kwargs: Any) -> None:
        distiller = _ld_kwargs(ATSS_DISTILLER, distiller, kwargs)
        super().__init__(num_classes, in_channels, distiller=distiller, **_head_kwargs(ATSS_GFL_DEFAULTS, kwargs))


@MODELS.register_module()
class FCOSGFLHead(GFLHead):
    """FCOS head with a distribution box branch and centre sampling (module docstring).

    Args (beyond :class:`GFLHead`): ``center_sampling`` (True), ``center_sample_radius`` (1.5),
    ``regress_ranges`` (FCOS) → the default ``FCOSAssigner``; the upstream ``norm_on_bbox=False``,
    ``centerness_on_reg=True``, ``dcn_on_last_conv=False``, ``conv_bias`` are accepted.
    """

    def __init__(self, num_classes: int, in_channels: int, **kwargs: Any) -> None:
        super().__init__(num_classes, in_channels, **_head_kwargs(FCOS_GFL_DEFAULTS, kwargs, fcos=True))


@MODELS.register_module()
class LDFCOSHead(GFLHead):
    """FCOS-GFL LD student: :class:`FCOSGFLHead` + ``distiller`` over :data:`FCOS_DISTILLER`."""

    def __init__(self, num_classes: int, in_channels: int, *, distiller: Optional[dict] = None,
                 **kwargs: Any) -> None:
        distiller = _ld_kwargs(FCOS_DISTILLER, distiller, kwargs)
        super().__init__(num_classes, in_channels, distiller=distiller,
                         **_head_kwargs(FCOS_GFL_DEFAULTS, kwargs, fcos=True))
