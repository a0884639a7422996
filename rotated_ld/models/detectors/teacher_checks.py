"""Teacher safety for knowledge distillation: strict checkpoint loading and teacher ↔ student checks.

Why: the failures LD users report most are silent ones — a teacher whose checkpoint never
loaded (head keys renamed, an mmdet 2.x file, a student checkpoint), so the "distilled" student
equals the baseline; or a teacher with another ``reg_max`` / class list / angle convention that
shows up as a reshape error deep in the loss (HikariTJU/LD #18, Rotated-LD #5) or not at all.

* :func:`load_teacher_checkpoint` — loads through the project's safe loader
  (:func:`rotated_ld.utils.safe_torch_load`, ``weights_only=True``); every missing, unexpected
  and mis-shaped key is listed (grouped by module prefix when there are many) and the load is
  refused with :class:`TeacherCheckpointError` naming the file, unless ``strict=False``
  (config: ``model.teacher_strict=False``), which loads what fits and warns with the same lists.
  The checkpoint ``meta`` written by ``CheckpointMetaHook`` (angle version, box type,
  num_classes) is compared with the teacher built from ``teacher_config``.
* :func:`check_teacher_compat` — raises :class:`TeacherCompatError` when the heads disagree on
  anything LD compares location by location and bin by bin: box type (hbox / rbox), num_classes,
  reg_max, strides and prior layout (prior generator type, priors per location, offsets, anchor
  ratios / scales), angle version, angle coder and bins (rotated GFL / LD heads), delta supports
  (rotated RetinaNet heads). Each difference names the teacher value, the student value and the
  config key to change.
"""
from __future__ import annotations

import os.path as osp
import warnings

import torch.nn as nn
from torch import Tensor

from rotated_ld.utils.checkpoint import diff_state_dict, safe_torch_load, summarize_keys, unwrap_state_dict
from rotated_ld.utils.checkpoint_meta import check_checkpoint_meta, head_box_type

__all__ = ['TeacherCheckpointError', 'TeacherCompatError', 'COMPAT_ATTRS', 'CONFIG_KEYS',
           'summarize_keys', 'load_teacher_checkpoint', 'check_teacher_compat', 'head_box_type',
           'prior_layout']

_MISSING = object()
# head attributes that must agree between teacher and student for location-to-location distillation
COMPAT_ATTRS = ('num_classes', 'reg_max', 'strides', 'num_base_priors', 'prior_offset', 'angle_bins',
                'angle_version', 'angle_range', 'edge_order')
# where each attribute is set in a config (student: ``model.bbox_head.<key>``; teacher: the same key in
# the teacher_config's model)
CONFIG_KEYS = {
    'num_classes': 'bbox_head.num_classes',
    'reg_max': 'bbox_head.reg_max',
    'strides': 'bbox_head.strides (or bbox_head.anchor_generator.strides)',
    'num_base_priors': 'bbox_head.anchor_generator (ratios / scales_per_octave)',
    'prior_offset': 'bbox_head.prior_offset',
    'prior_layout': 'bbox_head.anchor_generator / bbox_head.strides, prior_offset',
    'angle_bins': 'bbox_head.angle_coder.angle_bins',
    'angle_version': "top-level angle_version (bbox_head.angle_version and the dataset pipeline's)",
    'angle_range': 'bbox_head.angle_version / bbox_head.angle_coder',
    'angle_coder_type': 'bbox_head.angle_coder.type',
    'edge_order': 'bbox_head type',
    'delta_ranges': 'bbox_head.delta_ranges',
    'box_type': 'bbox_head.type (horizontal GFLHead/LDHead vs rotated heads)',
}
# deterministic buffers that older checkpoints may lack (filled from the freshly built model)
CONSTANT_BUFFERS = ('integral.project',)
_IGNORED_MISSING = ('num_batches_tracked',)


class TeacherCheckpointError(RuntimeError):
    """The teacher checkpoint does not fit the teacher built from ``teacher_config``."""

    exit_code = 2  # bad input, see rotated_ld.utils.cli


class TeacherCompatError(ValueError):
    """Teacher and student cannot be distilled location by location (heads disagree)."""


def load_teacher_checkpoint(teacher: nn.Module, path: str, strict: bool = True) -> dict:
    """Load ``path`` into ``teacher`` (CPU, safe loader); return the checkpoint ``meta`` (or ``{}``).

    Args:
        teacher: the teacher detector built from ``teacher_config``.
        path: local checkpoint (MMEngine / mmdet layout, ``state_dict`` or ``model`` key, or a bare
            state dict; DDP ``module.`` prefixes are stripped).
        strict: refuse any missing / unexpected / mis-shaped key (default). False loads the
            weights that fit and warns with the lists (config: ``model.teacher_strict=False``).

    Raises:
        ValueError: a URL (only local files are allowed).
        FileNotFoundError / UnsafeCheckpointError: from the safe loader.
        TeacherCheckpointError: keys do not fit (``strict``), or no key fits at all (any mode).
        CheckpointConventionError: the checkpoint ``meta`` names another angle version, box type or
            number of classes than the teacher config (``strict``; else a warning).
    """
    if '://' in str(path):
        raise ValueError(f'teacher_ckpt {path!r}: only local files are allowed (download it first)')
    path = osp.expanduser(str(path))
    ckpt = safe_torch_load(path, 'cpu')
    state, meta = unwrap_state_dict(ckpt, f'teacher_ckpt {path}', TeacherCheckpointError)
    own = teacher.state_dict()
    ckpt_keys = list(state)
    # constant buffers (the Integral support) may be absent from old checkpoints: ours are taken below
    diff = diff_state_dict(own, state, skip_missing=lambda k: k.endswith(_IGNORED_MISSING + CONSTANT_BUFFERS))
    missing, unexpected, shapes = diff.missing, diff.unexpected, diff.shapes
    name = type(teacher).__name__
    if not diff.common:
        raise TeacherCheckpointError(
            f'teacher_ckpt {path}: none of its {len(ckpt_keys)} weights has a name of the teacher built from '
            f'teacher_config ({name}); first checkpoint keys: {summarize_keys(ckpt_keys[:6])}. Is it a '
            'checkpoint of another architecture or of another code base (convert it with '
            'tools/model_converters/)?')
    if missing or unexpected or shapes:
        msg = (f'teacher_ckpt {path} does not fit the teacher built from teacher_config ({name}): '
               + diff.describe(state, own, 'teacher config'))
        if strict:
            raise TeacherCheckpointError(
                msg + '. A teacher that is only partly loaded distils noise. Fix teacher_config / '
                'teacher_ckpt, or set model.teacher_strict=False to load the weights that fit anyway.')
        warnings.warn(msg + ' (model.teacher_strict=False: loading the weights that fit)', stacklevel=3)
        for k in shapes:
            state.pop(k)
    for k, v in own.items():
        if k not in state and k.endswith(CONSTANT_BUFFERS):
            state[k] = v
    teacher.load_state_dict(state, strict=False)
    meta = dict(meta)
    check_checkpoint_meta(meta, teacher, classes=None, source=f'teacher_ckpt {path}',
                          target='teacher_config', on_mismatch='error' if strict else 'warn',
                          opt_out='model.teacher_strict=False')
    return meta


# ---------------------------------------------------------------------------- compatibility
def prior_layout(head: nn.Module):
    """What fixes the prior of each output location: generator type, strides, offsets, anchor shapes."""
    gen = getattr(head, 'prior_generator', None)
    if gen is None:
        return None
    out = [type(gen).__name__]
    for name in ('strides', 'offset', 'center_offset', 'ratios', 'scales'):
        v = getattr(gen, name, _MISSING)
        if v is not _MISSING:
            out.append((name, _norm(v)))
    return tuple(out)


def _norm(v):
    if isinstance(v, (list, tuple)):
        return tuple(_norm(x) for x in v)
    if isinstance(v, Tensor):
        return tuple(v.flatten().tolist())
    if isinstance(v, float):
        return round(v, 6)
    return v


def _show(v) -> str:
    return '<absent>' if v is _MISSING else repr(v)


def check_teacher_compat(student_head: nn.Module, teacher_head: nn.Module) -> None:
    """Raise :class:`TeacherCompatError` naming every attribute on which the heads disagree.

    Checked: box type; :data:`COMPAT_ATTRS`, ``student_head.distill_compat_attrs`` (the rotated
    heads add their angle coder and bins, the rotated RetinaNet heads their delta supports) and the
    prior layout (:func:`prior_layout`). An attribute present on one head only is a mismatch
    (e.g. a plain ATSS/RetinaNet teacher has no ``reg_max``). The message gives
    ``<attr>: teacher=<value>, student=<value> (config key: ...)`` for each.
    """
    s_box, t_box = head_box_type(student_head), head_box_type(teacher_head)
    hint = ('; set the config key in the student config (model.<key>) or in teacher_config so that both '
            'agree (LD/KD compare teacher and student location by location and bin by bin)')
    if s_box != t_box:
        raise TeacherCompatError(
            f'teacher head {type(teacher_head).__name__} is incompatible with student head '
            f'{type(student_head).__name__}: box_type: teacher={t_box!r}, student={s_box!r} '
            f'(config key: {CONFIG_KEYS["box_type"]}); a horizontal-box teacher cannot teach a rotated-box '
            'student or vice versa')
    names = list(COMPAT_ATTRS) + [a for a in getattr(student_head, 'distill_compat_attrs', ())
                                  if a not in COMPAT_ATTRS]
    names += [a for a in getattr(teacher_head, 'distill_compat_attrs', ()) if a not in names]
    problems = []
    for name in names:
        s = getattr(student_head, name, _MISSING)
        t = getattr(teacher_head, name, _MISSING)
        if s is _MISSING and t is _MISSING:
            continue
        s, t = (_norm(s) if s is not _MISSING else s), (_norm(t) if t is not _MISSING else t)
        if s is _MISSING or t is _MISSING or s != t:
            problems.append(f'{name}: teacher={_show(t)}, student={_show(s)} '
                            f'(config key: {CONFIG_KEYS.get(name, "bbox_head." + name)})')
    if not any(p.startswith(('strides', 'num_base_priors', 'prior_offset')) for p in problems):
        s_lay, t_lay = prior_layout(student_head), prior_layout(teacher_head)
        if s_lay != t_lay:
            problems.append(f'prior_layout: teacher={t_lay!r}, student={s_lay!r} '
                            f'(config key: {CONFIG_KEYS["prior_layout"]})')
    if problems:
        raise TeacherCompatError(
            f'teacher head {type(teacher_head).__name__} is incompatible with student head '
            f'{type(student_head).__name__}: ' + '; '.join(problems) + hint)


def same_preprocessing(student: nn.Module, teacher: nn.Module) -> None:
    """The teacher sees the student's preprocessed batch: mean/std/channel order must agree."""
    s, t = student.data_preprocessor, teacher.data_preprocessor
    for name in ('mean', 'std', 'bgr_to_rgb', '_channel_conversion'):
        sv, tv = getattr(s, name, None), getattr(t, name, None)
        sv = _norm(sv) if sv is not None else None
        tv = _norm(tv) if tv is not None else None
        if sv != tv:
            raise TeacherCompatError(
                f'teacher and student preprocess images differently ({name}: teacher={tv}, student={sv}; '
                'config key: data_preprocessor.' + name.lstrip('_') + '); the teacher runs on the student '
                'batch, so they must match')


def freeze(teacher: nn.Module) -> nn.Module:
    teacher.eval()
    teacher.requires_grad_(False)
    return teacher

