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
from torch import Tensor

from rotated_ld.registry import MODELS
from rotated_ld.utils.config_alias import resolve_alias

from .single_stage import SingleStageDetector
from .teacher_checks import (  # noqa: F401
    COMPAT_ATTRS,
    TeacherCheckpointError,
    TeacherCompatError,
    check_teacher_compat,
    freeze,
    load_teacher_checkpoint,
    same_preprocessing,
)

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
            through the project's safe loader; its ``meta`` (angle version, box type, classes) is
            checked against ``teacher_config`` (and the classes against the student's dataset by
            ``CheckpointMetaHook``). ``None`` keeps the random init (tests only; warns).
        eval_teacher: keep the teacher in eval mode whatever the student's mode (default).
        teacher_strict: refuse a teacher checkpoint with missing / unexpected / mis-shaped keys or
            another convention, listing them (default). False loads what fits and warns.
        eval_teacher_first: evaluate the teacher on the validation set before training and stop
            when its mAP is ≈ 0 (done by ``TeacherEvalHook``, in the default runtime). Default False.
        teacher_channels_last: run the teacher's forward in NHWC (``torch.channels_last``) on CPU.
            ``None`` (default): on when the batch is on the CPU. The teacher only runs forward, where
            oneDNN's NHWC convolutions are faster on CPU (demo teacher, batch 4 x 384²: 1.55 -> 1.25 s
            CPU time), while for the trained student NHWC is slower (its backward; see
            ``docs/cpu_training.md``). The teacher's outputs then differ from NCHW only by float
            reassociation inside the convolutions (~1e-5 absolute); the student is untouched.

    Teacher and student heads are checked at build (:func:`check_teacher_compat`): box type,
    num_classes, reg_max / bins, strides and priors, angle version / coder / bins, delta supports;
    a mismatch raises :class:`TeacherCompatError` with both values and the config key.

    The loss step runs the teacher under ``torch.no_grad()`` on the same preprocessed batch and calls
    ``bbox_head.loss(feats, data_samples, teacher_outs=<teacher head outputs>,
    teacher_feats=<teacher neck features>)``. Inference uses the student only.
    """

    def __init__(self, backbone: dict, neck: Optional[dict] = None, bbox_head: Optional[dict] = None,
                 teacher_config: Union[str, dict, None] = None, teacher_ckpt: Optional[str] = None,
                 eval_teacher: bool = True, teacher_strict: bool = True, eval_teacher_first: bool = False,
                 teacher_channels_last: Optional[bool] = None, train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None):
        super().__init__(backbone, neck, bbox_head, train_cfg, test_cfg, data_preprocessor, init_cfg)
        if teacher_config is None:
            raise ValueError('KDSingleStageDetector needs teacher_config')
        teacher_model_cfg = self._teacher_model_cfg(teacher_config)
        teacher = MODELS.build(teacher_model_cfg)
        if teacher_ckpt is None:
            warnings.warn('KDSingleStageDetector: teacher_ckpt=None, the teacher keeps its random init',
                          stacklevel=2)
        # compatibility before loading: a wrong teacher_config is reported as such, not as key lists
        check_teacher_compat(self.bbox_head, teacher.bbox_head)
        same_preprocessing(self, teacher)
        self.teacher_ckpt_meta: dict = {}
        if teacher_ckpt is not None:
            self.teacher_ckpt_meta = self._load_teacher(teacher, teacher_ckpt, strict=teacher_strict)
        freeze(teacher)
        self.eval_teacher = eval_teacher
        self.teacher_ckpt = teacher_ckpt
        self.teacher_strict = teacher_strict
        self.eval_teacher_first = eval_teacher_first
        self.teacher_channels_last = teacher_channels_last
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
            # an upstream (LD repository) teacher name: its marker goes, a refused one stops here
            resolve_alias(cfg, teacher_config)
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
    def _load_teacher(teacher: nn.Module, ckpt_path: str, strict: bool = True) -> dict:
        """Strict, safe load of the teacher checkpoint (see :func:`load_teacher_checkpoint`)."""
        return load_teacher_checkpoint(teacher, ckpt_path, strict=strict)

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
    def _teacher_input(self, inputs: Tensor) -> Tensor:
        """The batch as the teacher gets it: NHWC on CPU unless ``teacher_channels_last`` says otherwise.

        The teacher's 4-d weights are converted in place the first time (and stay so: ``.to(device)``
        keeps the memory format); a teacher already in NHWC is left as it is.
        """
        nhwc = self.teacher_channels_last
        if nhwc is None:
            nhwc = inputs.device.type == 'cpu'
        if not nhwc or inputs.dim() != 4:
            return inputs
        if not getattr(self, '_teacher_nhwc', False):
            self.teacher.to(memory_format=torch.channels_last)
            self._teacher_nhwc = True
        return inputs.contiguous(memory_format=torch.channels_last)

    def loss(self, inputs: Tensor, data_samples: list) -> dict:
        feats = self.extract_feat(inputs)
        with torch.no_grad():
            teacher_feats = self.teacher.extract_feat(self._teacher_input(inputs))
            teacher_outs = self.teacher.bbox_head(teacher_feats)
        return self.bbox_head.loss(feats, data_samples, teacher_outs=teacher_outs,
                                   teacher_feats=teacher_feats)
