"""The box convention travels with the model: written into every checkpoint, checked on every load.

A rotated detector's weights only make sense with the angle convention it was trained with
(``oc`` / ``le90`` / ``le135``) and the class list its outputs are indexed by. Neither shows in the
state dict, so a ``le135`` checkpoint loads silently into a ``le90`` config (boxes come out with
the wrong range / swapped sides) and a checkpoint of another class order loads into a dataset
whose labels mean something else (AP 60 → 0.1 with no error).

:class:`CheckpointMetaHook` (in ``configs/_base_/default_runtime.py``) writes into every saved
checkpoint's ``meta``::

    angle_version       'le90' | 'le135' | 'oc' | None (horizontal model)
    box_type            'rbox' | 'hbox' | None (unknown: a model without a dense head)
    classes             class names of the training dataset (its metainfo), or None
    num_classes         the head's number of classes, or None
    rotated_ld_version  version of this package

and on every load through the Runner (``load_from``, ``resume``, ``tools/test.py``) compares
them with the model and dataset of the current config. The check itself
(:func:`rotated_ld.utils.checkpoint_meta.check_checkpoint_meta`) also runs for ``teacher_ckpt``
(in :mod:`rotated_ld.models.detectors.teacher_checks`) and in
:func:`rotated_ld.apis.init_detector`. A difference is a :class:`CheckpointConventionError` that
says what differs and how to convert; checkpoints without this meta (older or foreign ones) load
with a warning. ``CheckpointMetaHook(on_mismatch='warn')`` turns the errors into warnings (e.g.
fine-tuning a checkpoint on another class list on purpose).
"""
from __future__ import annotations

from mmengine.hooks import Hook
from mmengine.runner import BaseLoop

from rotated_ld.registry import HOOKS
from rotated_ld.utils.checkpoint_meta import (
    CONVENTION_MARKER,
    CheckpointConventionError,
    check_checkpoint_meta,
    checkpoint_classes,
    classes_list,
    compare_classes,
    convention_meta,
    unwrap_model,
)

__all__ = ['CheckpointMetaHook', 'runner_dataset_meta']


def runner_dataset_meta(runner) -> dict:
    """Metainfo of the runner's dataset, from the loops already built (train, val, test), else {}."""
    for name in ('_train_loop', '_val_loop', '_test_loop'):
        loop = getattr(runner, name, None)
        if isinstance(loop, BaseLoop):
            ds = getattr(getattr(loop, 'dataloader', None), 'dataset', None)
            meta = getattr(ds, 'metainfo', None)
            if isinstance(meta, dict) and meta:
                return dict(meta)
    return {}


@HOOKS.register_module()
class CheckpointMetaHook(Hook):
    """Write the box convention into checkpoints; check it when the Runner loads one.

    Args:
        on_mismatch (str): ``'error'`` (default) stops a load whose checkpoint differs from the config
            (angle version, box type, num_classes, class list) with :class:`CheckpointConventionError`;
            ``'warn'`` logs the differences and loads anyway.

    Also checks, before training, that a distillation teacher (``teacher_ckpt``) was trained on the
    class list of the student's dataset, when its checkpoint carries the meta.
    """

    priority = 'NORMAL'

    def __init__(self, on_mismatch: str = 'error') -> None:
        if on_mismatch not in ('error', 'warn'):
            raise ValueError(f"CheckpointMetaHook: on_mismatch must be 'error' or 'warn', got {on_mismatch!r}")
        self.on_mismatch = on_mismatch

    @staticmethod
    def _model(runner):
        return unwrap_model(runner.model)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        meta = checkpoint.setdefault('meta', {})
        dm = meta.get('dataset_meta')
        classes = dm.get('classes') if isinstance(dm, dict) else None
        if not classes:
            classes = runner_dataset_meta(runner).get('classes')
        meta.update(convention_meta(self._model(runner), classes))

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
        src = getattr(runner, '_load_from', None)
        source = f'checkpoint {src}' if src else 'the checkpoint being resumed'
        check_checkpoint_meta(meta, self._model(runner), runner_dataset_meta(runner).get('classes'),
                              source=source, target='the config', on_mismatch=self.on_mismatch,
                              opt_out="custom_hooks entry dict(type='CheckpointMetaHook', on_mismatch='warn')",
                              warn=runner.logger.warning)

    def before_train(self, runner) -> None:
        model = self._model(runner)
        t_meta = getattr(model, 'teacher_ckpt_meta', None)
        if not isinstance(t_meta, dict) or t_meta.get(CONVENTION_MARKER) is None:
            return
        t_classes = checkpoint_classes(t_meta)
        s_classes = classes_list(runner_dataset_meta(runner).get('classes'))
        if t_classes and s_classes:
            diff = compare_classes(t_classes, s_classes, "the student's dataset")
            if diff:
                msg = (f'teacher_ckpt {getattr(model, "teacher_ckpt", "")} was trained on another class list '
                       f'than the student trains on: {diff.replace("the checkpoint", "the teacher")} '
                       '(LD compares class scores channel by channel)')
                if self.on_mismatch == 'error':
                    raise CheckpointConventionError(
                        msg + ". To train anyway: custom_hooks entry dict(type='CheckpointMetaHook', "
                        "on_mismatch='warn')")
                runner.logger.warning(msg)
