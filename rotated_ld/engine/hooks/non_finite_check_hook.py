"""Stop (or skip the step) on a non-finite loss term or gradient, naming it and the iteration."""
from __future__ import annotations

import functools
import math
import os.path as osp
from typing import Literal

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from ...registry import HOOKS


class NonFiniteLossError(RuntimeError):
    """A loss term or gradient became NaN/inf; raised before the optimizer step applies it."""

    exit_code = 3  # the tools' documented code for a non-finite stop (rotated_ld.utils.cli)


@HOOKS.register_module()
class NonFiniteCheckHook(Hook):
    """Check every loss term and every gradient before the optimizer step.

    ``action='stop'`` raises :class:`NonFiniteLossError` naming the term (e.g. ``loss_ld``) or the
    parameter and the iteration *before* the update, so the weights and the last checkpoint stay
    good. ``action='skip'`` drops that step (no update, gradients zeroed), logs it and stops after
    ``max_skips`` consecutive skipped steps.
    """

    priority = 'VERY_HIGH'

    def __init__(self, action: Literal['stop', 'skip'] = 'stop', max_skips: int = 20) -> None:
        if action not in ('stop', 'skip'):
            raise ValueError(f"NonFiniteCheckHook: action={action!r}; expected 'stop' or 'skip'")
        self.action = action
        self.max_skips = max_skips
        self._bad: str | None = None
        self._consecutive = 0
        self.skipped = 0

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        parse_losses = model.parse_losses

        def checked_parse_losses(losses):
            loss, log_vars = parse_losses(losses)
            # name the individual term first; the total 'loss' only if no term is to blame
            for name, value in sorted(log_vars.items(), key=lambda kv: kv[0] == 'loss'):
                v = float(value.detach()) if isinstance(value, torch.Tensor) else float(value)
                if not math.isfinite(v):
                    self._on_bad(runner, f'{name} = {v}')
                    break
            return loss, log_vars

        model.parse_losses = checked_parse_losses

        wrapper = runner.optim_wrapper
        step = wrapper.step
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]

        def checked_step(**kwargs):
            if self._bad is None:
                for n, p in named:
                    if p.grad is not None and not torch.isfinite(p.grad).all():
                        self._on_bad(runner, f'gradient of {n} is not finite')
                        break
            if self._bad is not None:  # only reached in 'skip' mode
                wrapper.zero_grad()
                self._bad = None
                return None
            self._consecutive = 0
            return step(**kwargs)

        # keep the attributes MMEngine's param schedulers put on `step` (their call counter)
        wrapper.step = functools.update_wrapper(checked_step, step)

    def _on_bad(self, runner, what: str) -> None:
        where = f'iteration {runner.iter + 1} (epoch {runner.epoch + 1})'
        if self.action == 'stop':
            ckpt = None
            pointer = osp.join(runner.work_dir, 'last_checkpoint')
            if osp.isfile(pointer):
                ckpt = open(pointer).read().strip()
            raise NonFiniteLossError(
                f'non-finite training value: {what} at {where}; stopped before the update. '
                f'Last good checkpoint: {ckpt or "none saved yet"}. Lower the lr, enable gradient clipping '
                f"(optim_wrapper.clip_grad) or use NonFiniteCheckHook(action='skip').")
        self._bad = what
        self.skipped += 1
        self._consecutive += 1
        runner.logger.warning(f'NonFiniteCheckHook: {what} at {where}; step skipped ({self.skipped} so far)')
        if self._consecutive > self.max_skips:
            raise NonFiniteLossError(f'{self._consecutive} consecutive non-finite steps (last: {what} at {where})')
