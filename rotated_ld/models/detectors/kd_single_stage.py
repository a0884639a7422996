"""Knowledge-distillation single-stage detector: a frozen teacher feeds the student head's loss.

The teacher is held in a one-element list (``self._teacher``), so it is NOT a registered submodule:
absent from ``state_dict()``, ``parameters()`` (hence the optimizer), ``modules()``, DDP and SyncBN
conversion. One ``_apply`` override moves it with the student (``to``/``cuda``/``cpu``/``half``/
``double`` all go through ``_apply``), and ``train()`` keeps it in eval mode (frozen BN statistics).
This replaces mmdet's ``__setattr__`` trick plus hand-written ``cuda``/``to`` overrides.
"""
from __future__ import annotations

import os.path as osp
import warnings
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.config import Config, ConfigDict
from mmengine.runner.checkpoint import _load_checkpoint, load_state_dict
from torch import Tensor

from rotated_ld.registry import MODELS

from .single_stage import SingleStageDetector

_MISSING = object()
# head attributes that must agree between teacher and student for location-to-location distillation
COMPAT_ATTRS = ('num_classes', 'reg_max', 'strides', 'num_base_priors', 'prior_offset', 'angle_bins',
                'angle_version', 'angle_range', 'edge_order')
# deterministic buffers that older checkpoints may lack (filled from the freshly built model)
_CONSTANT_BUFFERS = ('integral.project',)
_REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def resolve_config_path(path: str) -> str:
    """Find a teacher config: as given (absolute or relative to the cwd), else relative to the repo root."""
    path = osp.expanduser(path)
    for cand in (path, osp.join(_REPO_ROOT, path)):
        if osp.isfile(cand):
            return cand
    raise FileNotFoundError(f'teacher_config {path!r} not found (looked in the cwd and in {_REPO_ROOT}); '
                            "in configs write '{{ fileDirname }}/../gfl/<name>.py' to make it relative "
                            'to the config file')


def _norm(v):
    if isinstance(v, (list, tuple)):
        return tuple(_norm(x) for x in v)
    if isinstance(v, Tensor):
        return tuple(v.flatten().tolist())
    return v


def check_teacher_compat(student_head: nn.Module, teacher_head: nn.Module) -> None:
    """Raise ``ValueError`` naming every attribute on which teacher and student heads disagree.

    Checked: :data:`COMPAT_ATTRS` plus any names in ``student_head.distill_compat_attrs``. An
    attribute present on one head only is a mismatch too (e.g. a teacher without a distribution
    head has no ``reg_max``).
    """
    names = list(COMPAT_ATTRS) + [a for a in getattr(student_head, 'distill_compat_attrs', ())
                                  if a not in COMPAT_ATTRS]
    problems = []
    for name in names:
        s = getattr(student_head, name, _MISSING)
        t = getattr(teacher_head, name, _MISSING)
        if s is _MISSING and t is _MISSING:
            continue
        if s is _MISSING or t is _MISSING:
            problems.append(f'{name}: student={"<absent>" if s is _MISSING else _norm(s)!r}, '
                            f'teacher={"<absent>" if t is _MISSING else _norm(t)!r}')
        elif _norm(s) != _norm(t):
            problems.append(f'{name}: student={_norm(s)!r}, teacher={_norm(t)!r}')
    if problems:
        raise ValueError(
            f'teacher head {type(teacher_head).__name__} is incompatible with student head '
            f'{type(student_head).__name__} (LD/KD compare them location by location and bin by bin): '
            + '; '.join(problems))


@MODELS.register_module()
class KDSingleStageDetector(SingleStageDetector):
    """Student detector distilled from a frozen teacher built from its own config.

    Args:
        backbone, neck, bbox_head, train_cfg, test_cfg, data_preprocessor, init_cfg: the student,
            as :class:`SingleStageDetector`.
        teacher_config: path of the teacher's config file (its ``model`` entry is built; a relative
            path is tried from the cwd and from the repo root; configs should use
            ``'{{ fileDirname }}/...'``), or a config dict (a full config with ``model``, or a
            model config with ``type``).
        teacher_ckpt: local checkpoint of the teacher (ours or mmdet format with the same layer
            names; ``state_dict`` or ``model`` key or a bare state dict), loaded strictly on CPU
            through MMEngine's safe loader. ``None`` keeps the random init (tests only; warns).
        eval_teacher: keep the teacher in eval mode whatever the student's mode (default).

    The loss step runs the teacher under ``torch.no_grad()`` on the same preprocessed batch and calls
    ``bbox_head.loss(feats, data_samples, teacher_outs=<teacher head outputs>,
    teacher_feats=<teacher neck features>)``. Inference uses the student only.
    """

    def __init__(self, backbone: dict, neck: Optional[dict] = None, bbox_head: Optional[dict] = None,
                 teacher_config: Union[str, dict, None] = None, teacher_ckpt: Optional[str] = None,
                 eval_teacher: bool = True, train_cfg: Optional[dict] = None, test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None):
        super().__init__(backbone, neck, bbox_head, train_cfg, test_cfg, data_preprocessor, init_cfg)
        if teacher_config is None:
            raise ValueError('KDSingleStageDetector needs teacher_config')
        teacher_model_cfg = self._teacher_model_cfg(teacher_config)
        teacher = MODELS.build(teacher_model_cfg)
        if teacher_ckpt is not None:
            self._load_teacher(teacher, teacher_ckpt)
        else:
            warnings.warn('KDSingleStageDetector: teacher_ckpt=None, the teacher keeps its random init',
                          stacklevel=2)
        teacher.eval()
        teacher.requires_grad_(False)
        check_teacher_compat(self.bbox_head, teacher.bbox_head)
        self._check_preprocessing(teacher)
        self.eval_teacher = eval_teacher
        self.teacher_ckpt = teacher_ckpt
        # a list hides the teacher from nn.Module: not in state_dict / parameters / DDP / optimizer
        self._teacher = [teacher]

    # ------------------------------------------------------------------ teacher handling
    @property
    def teacher(self) -> nn.Module:
        """The frozen teacher detector (not a submodule)."""
        return self._teacher[0]

    @staticmethod
    def _teacher_model_cfg(teacher_config: Union[str, dict]) -> dict:
        if isinstance(teacher_config, str):
            cfg = Config.fromfile(resolve_config_path(teacher_config))
            if 'model' not in cfg:
                raise ValueError(f'teacher config {teacher_config!r} has no `model` entry')
            return cfg['model']
        if isinstance(teacher_config, (dict, ConfigDict, Config)):
            if 'model' in teacher_config:
                return teacher_config['model']
            if 'type' in teacher_config:
                return teacher_config
        raise TypeError('teacher_config must be a path or a dict with `model`/`type`, '
                        f'got {type(teacher_config)}')

    @staticmethod
    def _load_teacher(teacher: nn.Module, ckpt_path: str) -> None:
        if '://' in str(ckpt_path):
            raise ValueError(f'teacher_ckpt {ckpt_path!r}: only local files are allowed')
        ckpt = _load_checkpoint(ckpt_path, map_location='cpu')  # our safe loader (import rotated_ld)
        state = ckpt
        if isinstance(ckpt, dict):
            state = ckpt.get('state_dict', ckpt.get('model', ckpt))
        state = {(k[7:] if k.startswith('module.') else k): v for k, v in state.items()}
        # constant buffers (the Integral support) may be absent from old checkpoints: take ours
        for k, v in teacher.state_dict().items():
            if k not in state and k.endswith(_CONSTANT_BUFFERS):
                state[k] = v
        load_state_dict(teacher, state, strict=True)

    def _check_preprocessing(self, teacher: nn.Module) -> None:
        """The teacher sees the student's preprocessed batch: mean/std/channel order must agree."""
        s, t = self.data_preprocessor, teacher.data_preprocessor
        for name in ('mean', 'std', 'bgr_to_rgb', '_channel_conversion'):
            sv, tv = getattr(s, name, None), getattr(t, name, None)
            sv = _norm(sv) if sv is not None else None
            tv = _norm(tv) if tv is not None else None
            if sv != tv:
                raise ValueError(f'teacher and student preprocess images differently ({name}: student={sv}, '
                                 f'teacher={tv}); the teacher runs on the student batch, so they must match')

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        for t in getattr(self, '_teacher', ()):
            t._apply(fn, *args, **kwargs)
        return self

    def train(self, mode: bool = True):
        super().train(mode)
        for t in getattr(self, '_teacher', ()):
            t.train(False if self.eval_teacher else mode)
        return self

    # ------------------------------------------------------------------ training
    def loss(self, inputs: Tensor, data_samples: list) -> dict:
        feats = self.extract_feat(inputs)
        with torch.no_grad():
            teacher_feats = self.teacher.extract_feat(inputs)
            teacher_outs = self.teacher.bbox_head(teacher_feats)
        return self.bbox_head.loss(feats, data_samples, teacher_outs=teacher_outs,
                                   teacher_feats=teacher_feats)
