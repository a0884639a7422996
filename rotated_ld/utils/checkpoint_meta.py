"""The box convention of a checkpoint: what it declares, what a model has, and the check between them.

Every checkpoint written by the Runner carries in ``meta`` (via
:class:`rotated_ld.engine.hooks.CheckpointMetaHook`)::

    angle_version       'le90' | 'le135' | 'oc' | None (horizontal model)
    box_type            'rbox' | 'hbox' | None (unknown: a model without a dense head)
    classes             class names of the training dataset (its metainfo), or None
    num_classes         the head's number of classes, or None
    rotated_ld_version  version of this package

:func:`check_checkpoint_meta` compares them with a model and a class list; it is the one check used
by the hook (``load_from`` / ``resume`` / ``tools/test.py``), by the KD detector for
``teacher_ckpt`` (:mod:`rotated_ld.models.detectors.teacher_checks`), by
:func:`rotated_ld.apis.init_detector` and by the weight importer. It lives here, below ``models``
and ``engine``, so that both can use it without importing each other.
"""
from __future__ import annotations

import warnings
from typing import Callable, Optional, Sequence

from mmengine.model import is_model_wrapper
from torch import nn

from rotated_ld.version import __version__

__all__ = ['CheckpointConventionError', 'CONVENTION_KEYS', 'head_box_type', 'model_convention',
           'convention_meta', 'check_checkpoint_meta', 'compare_classes', 'checkpoint_classes',
           'classes_list', 'unwrap_model', 'CONVENTION_MARKER']

CONVENTION_KEYS = ('angle_version', 'box_type', 'classes', 'num_classes', 'rotated_ld_version')
CONVENTION_MARKER = 'rotated_ld_version'
_ANGLE_FIX = ("set angle_version='{ckpt}' in the config (the top-level angle_version: it sets "
              "model.bbox_head.angle_version and the dataset pipeline's ConvertBoxType/flip angle_version), "
              "then, if you need {cfg} boxes, convert the predictions with "
              "rotated_ld.structures.bbox.convert_rbox_version(boxes, '{ckpt}', '{cfg}')")


class CheckpointConventionError(ValueError):
    """A checkpoint's angle version / box type / class list differs from the config's."""


def unwrap_model(model):
    return model.module if is_model_wrapper(model) else model


def head_box_type(head: nn.Module) -> Optional[str]:
    """``'rbox'`` for heads with an angle version or 5-d priors, ``'hbox'`` for other dense heads."""
    if head is None:
        return None
    if getattr(head, 'angle_version', None) is not None:
        return 'rbox'
    gen = getattr(head, 'prior_generator', None)
    if getattr(gen, 'box_dim', None) == 5:
        return 'rbox'
    return 'hbox'


def model_convention(model) -> dict:
    """``angle_version``, ``box_type`` and ``num_classes`` of a detector (None where unknown)."""
    model = unwrap_model(model)
    head = getattr(model, 'bbox_head', None)
    src = head if head is not None else model
    num_classes = getattr(src, 'num_classes', None)
    return dict(angle_version=getattr(src, 'angle_version', None),
                box_type=head_box_type(head) if head is not None else None,
                num_classes=int(num_classes) if isinstance(num_classes, int) else None)


def classes_list(classes) -> Optional[list]:
    if classes is None:
        return None
    if isinstance(classes, str):
        return [classes]
    try:
        out = [str(c) for c in classes]
    except TypeError:
        return None
    return out or None


def convention_meta(model, classes: Optional[Sequence[str]] = None) -> dict:
    """The ``meta`` entries :class:`CheckpointMetaHook` writes (plain types: safe to load)."""
    meta = model_convention(model)
    meta['classes'] = classes_list(classes)
    meta['rotated_ld_version'] = __version__
    return meta


def checkpoint_classes(meta: dict) -> Optional[list]:
    if meta.get(CONVENTION_MARKER) is not None:
        return classes_list(meta.get('classes'))
    dm = meta.get('dataset_meta')
    if isinstance(dm, dict) and dm.get('classes'):  # MMEngine / mmdet 3 checkpoints
        return classes_list(dm['classes'])
    return classes_list(meta.get('CLASSES'))  # mmdet 2 checkpoints


def _show_names(names: list, limit: int = 8) -> str:
    body = ', '.join(repr(n) for n in names[:limit])
    if len(names) > limit:
        body += f', ... {len(names) - limit} more'
    return '(' + body + (',)' if len(names) == 1 else ')')


def compare_classes(ckpt: list, cfg: list, target: str = 'the config') -> Optional[str]:
    """None when equal, else one sentence saying how the class lists differ and how to fix it."""
    if list(ckpt) == list(cfg):
        return None
    if sorted(ckpt) == sorted(cfg):
        i = next(i for i, (a, b) in enumerate(zip(ckpt, cfg)) if a != b)
        what = (f'the same {len(ckpt)} classes in another order (first difference at index {i}: '
                f'checkpoint {ckpt[i]!r}, {target} {cfg[i]!r})')
    else:
        only_ck = [c for c in ckpt if c not in cfg]
        only_cfg = [c for c in cfg if c not in ckpt]
        what = f'checkpoint has {len(ckpt)} classes, {target} {len(cfg)}'
        if only_ck:
            what += f'; only in the checkpoint: {_show_names(only_ck)}'
        if only_cfg:
            what += f'; only in {target}: {_show_names(only_cfg)}'
    return (f'class lists differ: {what}. Labels index the class list, so the predictions would be '
            f'named wrongly: set the dataset metainfo=dict(classes={_show_names(ckpt, 6)}) (the checkpoint\'s '
            'list, in its order) or retrain on your class list')


def check_checkpoint_meta(meta: Optional[dict], model=None, classes: Optional[Sequence[str]] = None, *,
                          source: str = 'checkpoint', target: str = 'the config', on_mismatch: str = 'error',
                          opt_out: Optional[str] = None, warn: Optional[Callable[[str], None]] = None) -> list:
    """Compare a checkpoint ``meta`` with ``model`` (angle version, box type, num_classes) and
    ``classes`` (the dataset's class names); return the list of differences found.

    Args:
        meta: the checkpoint's ``meta`` dict (None / {} for a bare state dict).
        model: the detector the weights are loaded into (None: skip the model checks).
        classes: class names of the current dataset (None: skip the class check).
        source: how to name the checkpoint in messages (e.g. ``'load_from work_dirs/x/epoch_12.pth'``).
        target: how to name the config side.
        on_mismatch: ``'error'`` raises :class:`CheckpointConventionError`; ``'warn'`` warns.
        opt_out: how the user turns the error into a warning (appended to the message).
        warn: warning sink (default :func:`warnings.warn`; hooks pass ``runner.logger.warning``).
    """
    if on_mismatch not in ('error', 'warn'):
        raise ValueError(f"on_mismatch must be 'error' or 'warn', got {on_mismatch!r}")
    warn = warn or (lambda m: warnings.warn(m, stacklevel=3))
    meta = dict(meta) if isinstance(meta, dict) else {}
    cur = model_convention(model) if model is not None else dict(angle_version=None, box_type=None,
                                                                  num_classes=None)
    cur_classes = classes_list(classes)
    ck_classes = checkpoint_classes(meta)
    if meta.get(CONVENTION_MARKER) is None:
        known = [f'{k}={v!r}' for k, v in cur.items() if v is not None]
        msg = (f'{source} has no rotated_ld convention meta (angle_version, box_type, classes: written by '
               'CheckpointMetaHook); it is an older or foreign checkpoint, so it cannot be checked that it was '
               f'trained with the convention of {target}' + (f' ({", ".join(known)})' if known else '')
               + '; make sure it was')
        if ck_classes and cur_classes:
            diff = compare_classes(ck_classes, cur_classes, target)
            if diff:
                msg += '. Its dataset_meta says: ' + diff
        warn(msg)
        return []
    problems = []
    ck_box, ck_av = meta.get('box_type'), meta.get('angle_version')
    if ck_box and cur['box_type'] and ck_box != cur['box_type']:
        names = {'rbox': 'rotated boxes', 'hbox': 'horizontal boxes'}
        problems.append(f'checkpoint was trained for {names.get(ck_box, ck_box)} (box_type={ck_box!r}'
                        + (f', angle_version={ck_av}' if ck_av else '') + f'), {target} builds a model for '
                        f'{names.get(cur["box_type"], cur["box_type"])} (box_type={cur["box_type"]!r}): use a '
                        f'{"rotated" if ck_box == "rbox" else "horizontal"} config for this checkpoint')
    elif ck_av and cur['angle_version'] and ck_av != cur['angle_version']:
        problems.append(f'checkpoint was trained with angle_version={ck_av}, {target} says '
                        f'{cur["angle_version"]}: ' + _ANGLE_FIX.format(ckpt=ck_av, cfg=cur['angle_version']))
    ck_n = meta.get('num_classes')
    if ck_n is not None and cur['num_classes'] is not None and int(ck_n) != int(cur['num_classes']):
        problems.append(f'checkpoint has num_classes={ck_n}, {target} has {cur["num_classes"]}: set '
                        f'model.bbox_head.num_classes={ck_n} and the dataset classes to the checkpoint\'s')
    if ck_classes and cur_classes:
        diff = compare_classes(ck_classes, cur_classes, target)
        if diff:
            problems.append(diff)
    if problems:
        msg = f'{source} does not match {target}: ' + '; '.join(problems)
        if on_mismatch == 'error':
            raise CheckpointConventionError(msg + (f'. To load it anyway: {opt_out}' if opt_out else ''))
        warn(msg + ' (loading anyway: on_mismatch=warn)')
    return problems
