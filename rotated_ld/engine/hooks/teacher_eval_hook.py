"""Evaluate the distillation teacher before training; report the teacher–student gap at the end.

A teacher that never loaded (or was trained for a few iterations) makes LD a no-op or worse, and
nothing in the losses shows it. With ``eval_teacher_first=True`` (on the KD model:
``model.eval_teacher_first=True``, or on this hook) the teacher is run on the validation
dataloader with the validation evaluator before the first iteration: its metrics are logged as
``teacher/<key>``, and a teacher whose main metric (``mAP`` / ``bbox_mAP``) is below
``min_teacher_metric`` (0.001) stops the run with :class:`TeacherUntrainedError` naming the
``teacher_ckpt``. After every validation the student's main metric is logged next to the teacher's,
and after training a per-class table (teacher AP, student AP, gap) is logged, from the evaluator's
classwise keys (``classwise=True``: ``dota/AP50_<class>``, ``coco/bbox_<class>_precision``).

The hook is in ``configs/_base_/default_runtime.py`` and does nothing for models without a teacher
or without ``eval_teacher_first``. Without a validation loop (``val_cfg=None``, as the demo
configs) it logs that it needs one and lets training go on.
"""
from __future__ import annotations

import re
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop

from rotated_ld.registry import HOOKS

from .checkpoint_meta_hook import runner_dataset_meta

__all__ = ['TeacherEvalHook', 'TeacherUntrainedError', 'main_metric_key', 'classwise_metrics',
           'gap_table']

MAIN_METRICS = ('mAP', 'bbox_mAP')


class TeacherUntrainedError(RuntimeError):
    """The teacher's validation metric is ≈ 0: absent or untrained teacher."""

    exit_code = 2  # bad input (the teacher checkpoint), see rotated_ld.utils.cli


def main_metric_key(metrics: dict, metric_key: Optional[str] = None) -> Optional[str]:
    """The key of the main metric: ``metric_key`` (with or without the ``prefix/``), else the first
    key named ``mAP`` / ``bbox_mAP`` after its prefix."""
    if metric_key is not None:
        for k in metrics:
            if k == metric_key or k.split('/')[-1] == metric_key:
                return k
        return None
    for name in MAIN_METRICS:
        for k in metrics:
            if k.split('/')[-1] == name:
                return k
    return None


def classwise_metrics(metrics: dict, classes) -> dict:
    """``{class: AP}`` from classwise keys (``AP50_<c>``, ``bbox_<c>_precision``, ``AP_<c>``, ...)."""
    out = {}
    for c in classes or ():
        c = str(c)
        pat = re.compile(r'^(?:AP\d*|bbox)_' + re.escape(c) + r'(?:_precision|_AP)?$|^' + re.escape(c) + r'_AP$')
        for k, v in metrics.items():
            if pat.match(k.split('/')[-1]) and isinstance(v, (int, float)):
                out[c] = float(v)
                break
    return out


def _fmt(v) -> str:
    return '-' if v is None or v != v else f'{v:.4f}'


def gap_table(teacher: dict, student: dict, classes, main_key: Optional[str]) -> str:
    """Plain-text table: class | teacher | student | gap (teacher − student), main metric last."""
    t_cls, s_cls = classwise_metrics(teacher, classes), classwise_metrics(student, classes)
    rows = [('class', 'teacher', 'student', 'gap')]
    for c in classes or ():
        c = str(c)
        if c in t_cls or c in s_cls:
            t, s = t_cls.get(c), s_cls.get(c)
            rows.append((c, _fmt(t), _fmt(s), _fmt(t - s) if t is not None and s is not None else '-'))
    if main_key is not None:
        t, s = teacher.get(main_key), student.get(main_key)
        rows.append((main_key, _fmt(t), _fmt(s), _fmt(t - s) if t is not None and s is not None else '-'))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    line = '+' + '+'.join('-' * (w + 2) for w in widths) + '+'
    body = [line]
    for i, r in enumerate(rows):
        body.append('| ' + ' | '.join(x.ljust(w) if j == 0 else x.rjust(w) for j, (x, w) in enumerate(zip(r, widths)))
                    + ' |')
        if i == 0 or i == len(rows) - 2 and main_key is not None:
            body.append(line)
    if body[-1] != line:
        body.append(line)
    return '\n'.join(body)


@HOOKS.register_module()
class TeacherEvalHook(Hook):
    """Check the teacher on the validation set before distilling; report the gap after training.

    Args:
        eval_teacher_first (bool | None): evaluate the teacher before training. None (default)
            follows the model's ``eval_teacher_first`` attribute (``KDSingleStageDetector``).
        min_teacher_metric (float): stop when the teacher's main metric is below this. Default 0.001.
        metric_key (str | None): main metric (e.g. ``'dota/mAP'`` or ``'mAP'``); None picks the first
            ``mAP`` / ``bbox_mAP`` key.
        report_gap (bool): log the student's main metric next to the teacher's after each
            validation and the per-class gap table after training. Default True.
    """

    priority = 'LOW'

    def __init__(self, eval_teacher_first: Optional[bool] = None, min_teacher_metric: float = 0.001,
                 metric_key: Optional[str] = None, report_gap: bool = True) -> None:
        self.eval_teacher_first = eval_teacher_first
        self.min_teacher_metric = float(min_teacher_metric)
        self.metric_key = metric_key
        self.report_gap = report_gap
        self.teacher_metrics: Optional[dict] = None
        self.student_metrics: Optional[dict] = None
        self.student_iter: Optional[int] = None

    @staticmethod
    def _model(runner):
        return runner.model.module if is_model_wrapper(runner.model) else runner.model

    def _enabled(self, model) -> bool:
        if self.eval_teacher_first is not None:
            return bool(self.eval_teacher_first)
        return bool(getattr(model, 'eval_teacher_first', False))

    @staticmethod
    def _val_loop(runner):
        loop = getattr(runner, '_val_loop', None)
        if isinstance(loop, BaseLoop) and getattr(loop, 'dataloader', None) is not None \
                and getattr(loop, 'evaluator', None) is not None:
            return loop
        return None

    @staticmethod
    def evaluate_teacher(teacher, dataloader, evaluator) -> dict:
        """Run ``teacher`` over ``dataloader`` and return ``evaluator``'s metrics (as ValLoop does)."""
        was_training = teacher.training
        teacher.eval()
        with torch.no_grad():
            for batch in dataloader:
                outputs = teacher.val_step(batch)
                evaluator.process(data_samples=outputs, data_batch=batch)
        metrics = evaluator.evaluate(len(dataloader.dataset))
        teacher.train(was_training)
        return dict(metrics)

    def before_train(self, runner) -> None:
        model = self._model(runner)
        if not self._enabled(model):
            return
        teacher = getattr(model, 'teacher', None)
        if teacher is None:
            runner.logger.warning('TeacherEvalHook: eval_teacher_first=True but the model has no teacher '
                                  f'({type(model).__name__} is not a KDSingleStageDetector): nothing to check')
            return
        ckpt = getattr(model, 'teacher_ckpt', None)
        loop = self._val_loop(runner)
        if loop is None:
            runner.logger.warning(
                'TeacherEvalHook: eval_teacher_first=True needs a validation dataloader, but this config has '
                'none (val_cfg / val_dataloader / val_evaluator is None): the teacher '
                f'(teacher_ckpt={ckpt}) was NOT checked. Set val_dataloader, val_evaluator and '
                "val_cfg=dict(type='ValLoop') to check it; training goes on.")
            return
        n = len(loop.dataloader.dataset)
        runner.logger.info(f'TeacherEvalHook: evaluating the teacher (teacher_ckpt={ckpt}) on the validation '
                           f'set ({n} samples) before distilling')
        metrics = self.evaluate_teacher(teacher, loop.dataloader, loop.evaluator)
        self.teacher_metrics = metrics
        runner.message_hub.update_info('teacher_metrics', dict(metrics), resumed=False)
        shown = ', '.join(f'teacher/{k}: {v:.4f}' if isinstance(v, float) else f'teacher/{k}: {v}'
                          for k, v in metrics.items())
        runner.logger.info(f'TeacherEvalHook: {shown}')
        key = main_metric_key(metrics, self.metric_key)
        if key is None:
            runner.logger.warning(
                f'TeacherEvalHook: no main metric ({self.metric_key or " / ".join(MAIN_METRICS)}) among the '
                f'validation metrics {sorted(metrics)}; set TeacherEvalHook(metric_key=...) to check the teacher')
            return
        value = float(metrics[key])
        if not value >= self.min_teacher_metric:  # also catches NaN
            raise TeacherUntrainedError(
                f'the teacher is absent or untrained: its {key} on the validation set is {value:.3f} '
                f'(< {self.min_teacher_metric}); check teacher_ckpt={ckpt} (and that teacher_config is the '
                'config it was trained with). Distilling from it would teach the student noise. To go on '
                "anyway set model.eval_teacher_first=False or TeacherEvalHook(min_teacher_metric=0).")
        runner.logger.info(f'TeacherEvalHook: teacher {key} = {value:.4f} >= {self.min_teacher_metric}: '
                           'the teacher is trained, distilling')

    def after_val_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        if not self.report_gap or self.teacher_metrics is None or not metrics:
            return
        self.student_metrics = dict(metrics)
        self.student_iter = runner.iter
        key = main_metric_key(metrics, self.metric_key)
        if key is not None and key in self.teacher_metrics:
            s, t = float(metrics[key]), float(self.teacher_metrics[key])
            runner.logger.info(f'TeacherEvalHook: student {key} {s:.4f} | teacher/{key} {t:.4f} | '
                               f'gap (teacher - student) {t - s:+.4f}')

    def after_train(self, runner) -> None:
        if not self.report_gap or self.teacher_metrics is None:
            return
        if self.student_metrics is None:
            runner.logger.info('TeacherEvalHook: no student validation ran, so no teacher-student gap to report')
            return
        classes = runner_dataset_meta(runner).get('classes') or ()
        key = main_metric_key(self.student_metrics, self.metric_key)
        table = gap_table(self.teacher_metrics, self.student_metrics, classes, key)
        note = ''
        if not classwise_metrics(self.student_metrics, classes):
            note = '\n(no per-class metrics: set classwise=True in val_evaluator for a per-class table)'
        runner.logger.info(f'TeacherEvalHook: teacher-student gap (student from the validation at iter '
                           f'{self.student_iter}):\n{table}{note}')
