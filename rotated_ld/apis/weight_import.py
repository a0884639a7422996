"""Import a foreign checkpoint for a config: build our model, convert, check it loads, write it.

The conversion rules (layouts, key patterns, transforms) are :mod:`rotated_ld.utils.weight_import`;
this module adds what needs a built model (``--config`` of
``tools/model_converters/import_weights.py``), so it sits with the other model-building APIs.
"""
from __future__ import annotations

import os.path as osp
from collections import OrderedDict
from typing import Optional

import torch
from torch import nn

import rotated_ld.models  # noqa: F401  (registers the model classes MODELS.build needs)
from rotated_ld.registry import MODELS
from rotated_ld.utils.checkpoint_meta import convention_meta
from rotated_ld.utils.setup_env import load_config
from rotated_ld.utils.weight_import import (
    _COMPAT_OF,
    ANCHOR_MODES,
    ImportReport,
    WeightImportError,
    compat_overrides,
    convert_state_dict,
    load_foreign_checkpoint,
    meta_classes,
    sha256_of,
    write_compat_config,
)

from .inference import student_model_cfg

__all__ = ['build_target_model', 'import_weights']


def build_target_model(config: str, cfg_options: Optional[dict] = None) -> tuple[nn.Module, object]:
    """Our model (the student, no teacher, no pretrained download) of ``config``; ``(model, cfg)``."""
    cfg = load_config(config, cfg_options)  # upstream config names and mmdet 2.x keys as in every tool
    model_cfg = student_model_cfg(cfg.model)
    if isinstance(model_cfg.get('backbone'), dict):
        model_cfg['backbone'] = dict(model_cfg['backbone'], init_cfg=None)
    model = MODELS.build(model_cfg)
    model.eval()
    return model, cfg


def import_weights(src: str, dst: str, layout: str, config: Optional[str] = None, prefix: str = '',
                   verbose: bool = True, strict: bool = True, **options) -> ImportReport:
    """Convert ``src`` (foreign checkpoint) into ``dst`` (our checkpoint) and return the report.

    The output is ``{'state_dict': {name: tensor}, 'meta': {...}}`` — plain tensors and builtin
    types only, so it loads through the safe loader (``init_detector``, ``load_from``,
    ``init_cfg=dict(type='Pretrained', ...)``). ``meta`` has ``converted_from`` (layout, file
    name, sha256), ``dataset_meta.classes`` when the source names its classes and, with a
    rotated config, ``angle_version``.

    Rotated RetinaNet layouts (``options['anchors']='mmrotate'``, the default) with ``config``
    also write ``<dst stem>.py``: ``config`` with the source framework's anchors and decoding
    (``anchor_generator`` / ``bbox_coder`` ``compat``), the config to use with ``dst``
    (``report.out_config``).
    """
    anchors = options.setdefault('anchors', 'mmrotate')
    if anchors not in ANCHOR_MODES:
        raise WeightImportError(f'anchors={anchors!r}; expected one of {ANCHOR_MODES}')
    sd, meta = load_foreign_checkpoint(src)
    model = cfg = None
    overrides = compat_overrides(layout, options.get('src_angle_version', 'le90')) if anchors == 'mmrotate' else {}
    if config is not None:
        model, cfg = build_target_model(config, {'model.bbox_head': overrides} if overrides else None)
    out, report = convert_state_dict(sd, layout, model, prefix=prefix, strict=strict, **options)
    if model is not None and layout != 'torchvision-resnet' and prefix == '' and report.ok:
        # the converted weights must load strictly (what init_detector will do)
        res = model.load_state_dict(out, strict=False)
        if res.unexpected_keys:
            raise WeightImportError(f'unexpected keys after conversion: {res.unexpected_keys[:5]}')
    classes = meta_classes(meta)
    new_meta: dict = {}
    head = getattr(model, 'bbox_head', None)
    if model is not None and layout != 'torchvision-resnet':
        # the convention of --config (CheckpointMetaHook's keys): later loads check it against the config
        new_meta.update(convention_meta(model, classes))
        report.notes.append(f"meta declares the convention of {osp.basename(config)}: box_type="
                            f"{new_meta.get('box_type')!r}, angle_version={new_meta.get('angle_version')!r}"
                            + ('' if classes else ' (the source names no classes)'))
    new_meta['converted_from'] = dict(layout=layout, file=osp.basename(src), sha256=sha256_of(src))
    if options.get('src_angle_version') is not None:
        new_meta['converted_from']['src_angle_version'] = options['src_angle_version']
    out_config = None
    if overrides and config is not None:
        new_meta['converted_from']['compat'] = overrides['bbox_coder']['compat']
        out_config = osp.splitext(dst)[0] + '.py'
        write_compat_config(out_config, config, overrides, layout, src)
    if classes:
        new_meta['dataset_meta'] = dict(classes=tuple(str(c) for c in classes))
    if head is not None and classes and getattr(head, 'num_classes', len(classes)) != len(classes):
        report.notes.append(f'the source names {len(classes)} classes, the config has {head.num_classes}')
    torch.save(dict(state_dict=OrderedDict((k, v.detach().clone().contiguous()) for k, v in out.items()),
                    meta=new_meta), dst)
    if verbose:
        print(report.format())
        print(f'written: {dst} ({len(out)} tensors)')
        if out_config is not None:
            print(f'written: {out_config} (use this config with {osp.basename(dst)}: {osp.basename(config)} with '
                  f"anchor_generator / bbox_coder compat={overrides['bbox_coder']['compat']!r})")
        elif layout in _COMPAT_OF and config is None:
            print('note: without --config no config is written; set bbox_head.anchor_generator / bbox_coder '
                  f"compat={_COMPAT_OF[layout]!r} in yours to reproduce the source framework's detections")
    report.out_config = out_config
    return report
