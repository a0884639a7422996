"""mmdet 2.x / mmrotate 0.x config keys in an MMEngine config: translated, or refused with the replacement.

Configs and ``--cfg-options`` copied from the LD repository (mmdet 2.x) use keys that MMEngine does
not read: ``data.samples_per_gpu``, ``optimizer``, ``lr_config``, ``runner``, ``evaluation``, ...
Merged into an MMEngine config they would create new top-level entries that nothing reads, and the
run would silently use the old values. :func:`translate_legacy_keys` is applied by every tool after
the config file and the command line are merged (``setup_env.load_config`` and
``apis.inference``): each mmdet-2 key with a clear MMEngine equivalent is moved there (one notice
line names the new key and value), every other one raises :class:`LegacyConfigError` naming the
exact replacement. Nothing is left behind unread.

Top-level ``train_cfg`` / ``test_cfg`` are the loop configs in MMEngine but the detector's
training / testing settings in mmdet 2.x; they are told apart by their keys (``assigner``,
``nms``, ``score_thr``, ... belong to the detector and move to ``model.train_cfg`` /
``model.test_cfg``; ``max_epochs``, ``val_interval``, ``type`` stay with the loop).
"""
from __future__ import annotations

import copy
from typing import Any, Callable

__all__ = ['LegacyConfigError', 'LEGACY_TOP_KEYS', 'translate_legacy_keys']


class LegacyConfigError(ValueError):
    """An mmdet-2 key without a safe automatic translation; the message names the replacement."""

    exit_code = 2  # bad input (see rotated_ld.utils.cli)


# Keys the detector reads from mmdet-2's top-level train_cfg / test_cfg (one- and two-stage).
MODEL_TRAIN_KEYS = frozenset({'assigner', 'sampler', 'allowed_border', 'pos_weight', 'debug', 'rpn',
                              'rpn_proposal', 'rcnn'})
MODEL_TEST_KEYS = frozenset({'nms_pre', 'min_bbox_size', 'score_thr', 'nms', 'max_per_img', 'rpn', 'rcnn',
                             'with_nms', 'min_score'})

LEGACY_TOP_KEYS = ('data', 'optimizer', 'optimizer_config', 'lr_config', 'total_epochs', 'runner',
                   'evaluation', 'checkpoint_config', 'log_config', 'img_norm_cfg', 'fp16', 'dist_params',
                   'resume_from', 'workflow', 'momentum_config')

_LOADER = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _refuse(key: str, replacement: str) -> LegacyConfigError:
    return LegacyConfigError(f'mmdet 2.x key `{key}` is not read by this project (MMEngine); {replacement}')


def _fmt(value: Any) -> str:
    return repr(value.to_dict() if hasattr(value, 'to_dict') else value)


#: 2.x keys that move one-to-one to an MMEngine key (``_Translator._section``)
_MOVES = {
    'evaluation.interval': 'train_cfg.val_interval',
    'evaluation.start': 'train_cfg.val_begin',
    'log_config.interval': 'default_hooks.logger.interval',
    **{f'checkpoint_config.{k}': f'default_hooks.checkpoint.{k}'
       for k in ('interval', 'max_keep_ckpts', 'by_epoch', 'save_last', 'out_dir', 'save_optimizer')},
    **{f'img_norm_cfg.{k}': f'model.data_preprocessor.{new}'
       for k, new in (('mean', 'mean'), ('std', 'std'), ('to_rgb', 'bgr_to_rgb'))},
}


class _Translator:
    """Moves legacy keys of one config (a mmengine ``Config``, mutated in place) and records notices."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.notices: list[str] = []

    def set(self, dotted: str, value: Any, old: str) -> None:
        """``cfg[dotted] = value`` creating intermediate dicts; records ``old -> dotted=value``."""
        node = self.cfg
        parts = dotted.split('.')
        for p in parts[:-1]:
            if isinstance(node, list):
                node = node[int(p)]
                continue
            if node.get(p) is None:
                node[p] = {}
            node = node[p]
        if isinstance(node, list):
            node[int(parts[-1])] = value
        else:
            node[parts[-1]] = value
        self.notices.append(f'{old} -> {dotted}={_fmt(value)}')

    # ------------------------------------------------------------------ data
    def data(self, data: dict) -> None:
        for key, value in data.items():
            if key == 'samples_per_gpu':
                self.set('train_dataloader.batch_size', value, 'data.samples_per_gpu')
            elif key in ('workers_per_gpu', 'persistent_workers'):
                for loader in _LOADER:
                    if self.cfg.get(loader) is None:
                        continue
                    name = 'num_workers' if key == 'workers_per_gpu' else 'persistent_workers'
                    self.set(f'{loader}.{name}', value, f'data.{key}')
                    if key == 'workers_per_gpu' and not value and self.cfg[loader].get('persistent_workers'):
                        # torch refuses persistent workers without workers
                        self.set(f'{loader}.persistent_workers', False, f'data.{key}=0')
            elif key in ('train_dataloader', 'val_dataloader', 'test_dataloader') and isinstance(value, dict):
                for sub, v in value.items():
                    new = {'samples_per_gpu': 'batch_size', 'workers_per_gpu': 'num_workers',
                           'persistent_workers': 'persistent_workers', 'shuffle': 'sampler.shuffle'}.get(sub)
                    if new is None:
                        raise _refuse(f'data.{key}.{sub}', f'set `{key}.{sub}` directly')
                    self.set(f'{key}.{new}', v, f'data.{key}.{sub}')
            elif key in ('train', 'val', 'test'):
                raise _refuse(f'data.{key}', f'the dataset is `{key}_dataloader.dataset` (mmdet 3.x fields: '
                              "img_prefix -> data_prefix=dict(img=...), pipelines end with PackDetInputs); "
                              'see configs/_base_/datasets/*.py')
            else:
                raise _refuse(f'data.{key}', 'set the same option in train_dataloader / val_dataloader / '
                              'test_dataloader')

    # ------------------------------------------------------------------ optimizer
    def optimizer(self, opt: dict) -> None:
        opt = dict(opt)
        paramwise = opt.pop('paramwise_cfg', None)
        wrapper = self.cfg.get('optim_wrapper') or {}
        current = dict(wrapper.get('optimizer') or {})
        if 'type' in opt and opt['type'] != current.get('type'):
            # another optimizer: the old one's arguments (momentum, ...) would not fit
            self.set('optim_wrapper.optimizer', opt, 'optimizer')
        else:
            for key, value in opt.items():
                self.set(f'optim_wrapper.optimizer.{key}', value, f'optimizer.{key}')
        if paramwise is not None:
            self.set('optim_wrapper.paramwise_cfg', paramwise, 'optimizer.paramwise_cfg')

    def optimizer_config(self, oc: dict) -> None:
        for key, value in oc.items():
            if key == 'grad_clip':
                self.set('optim_wrapper.clip_grad', value, 'optimizer_config.grad_clip')
            elif key == 'cumulative_iters':
                self.set('optim_wrapper.accumulative_counts', value, 'optimizer_config.cumulative_iters')
            elif key == 'type' and value in ('OptimizerHook', 'GradientCumulativeOptimizerHook'):
                continue
            elif key in ('type', 'loss_scale'):
                raise _refuse(f'optimizer_config.{key}={value!r}', "mixed precision is `tools/train.py --amp` "
                              "(or optim_wrapper.type='AmpOptimWrapper')")
            else:
                raise _refuse(f'optimizer_config.{key}', 'set it on optim_wrapper (MMEngine OptimWrapper)')

    # ------------------------------------------------------------------ schedule
    def _schedulers(self) -> list:
        sched = self.cfg.get('param_scheduler')
        if sched is None:
            return []
        return list(sched) if isinstance(sched, (list, tuple)) else [sched]

    def lr_config(self, lr: dict) -> None:
        lr = dict(lr)
        policy = lr.pop('policy', None)
        if policy not in (None, 'step', 'Step'):
            raise _refuse(f'lr_config.policy={policy!r}', 'write param_scheduler = [dict(type=...), ...] '
                          "(e.g. 'CosineAnnealing' -> dict(type='CosineAnnealingLR', by_epoch=True, T_max=...))")
        scheds = [dict(s) for s in self._schedulers()]
        warmup_keys = {'warmup', 'warmup_iters', 'warmup_ratio', 'warmup_by_epoch'}
        if warmup_keys & set(lr):
            warmup = lr.pop('warmup', 'linear')
            iters = lr.pop('warmup_iters', 500)
            ratio = lr.pop('warmup_ratio', 0.001)
            by_epoch = lr.pop('warmup_by_epoch', False)
            scheds = [s for s in scheds if s.get('type') not in ('LinearLR', 'ConstantLR')]
            if warmup == 'linear':
                scheds.insert(0, dict(type='LinearLR', start_factor=ratio, by_epoch=by_epoch, begin=0, end=iters))
            elif warmup == 'constant':
                scheds.insert(0, dict(type='ConstantLR', factor=ratio, by_epoch=by_epoch, begin=0, end=iters))
            elif warmup is not None:
                raise _refuse(f'lr_config.warmup={warmup!r}', "use param_scheduler with dict(type='LinearLR', ...) "
                              "or dict(type='ConstantLR', ...) as the first entry")
        step = lr.pop('step', None)
        gamma = lr.pop('gamma', None)
        for key in ('by_epoch', 'min_lr'):
            if key in lr:
                raise _refuse(f'lr_config.{key}', 'set it on the MultiStepLR entry of param_scheduler')
        if lr:
            raise _refuse(f'lr_config.{next(iter(lr))}', 'write param_scheduler = [...] (MMEngine schedulers)')
        if step is not None or gamma is not None:
            multi = next((s for s in scheds if s.get('type') == 'MultiStepLR'), None)
            if multi is None:
                multi = dict(type='MultiStepLR', by_epoch=True, begin=0, end=self._max_epochs() or 12,
                             milestones=[], gamma=0.1)
                scheds.append(multi)
            if step is not None:
                multi['milestones'] = [step] if isinstance(step, int) else list(step)
            if gamma is not None:
                multi['gamma'] = gamma
        self.set('param_scheduler', scheds, 'lr_config')

    def _max_epochs(self):
        return (self.cfg.get('train_cfg') or {}).get('max_epochs')

    def _epochs(self, value: int, old: str) -> None:
        loop = self.cfg.get('train_cfg') or {}
        if loop.get('type', 'EpochBasedTrainLoop') != 'EpochBasedTrainLoop' or 'max_iters' in loop:
            raise _refuse(old, f'this config trains by iterations: set train_cfg.max_iters instead of {old}')
        before = loop.get('max_epochs')
        self.set('train_cfg.max_epochs', value, old)
        # epoch-based schedulers that ran to the end of training keep doing so
        sched = self.cfg.get('param_scheduler')
        entries = [('param_scheduler', sched)] if isinstance(sched, dict) else \
            [(f'param_scheduler.{i}', s) for i, s in enumerate(sched or [])]
        for path, s in entries:
            if s.get('by_epoch', True) and before is not None and s.get('end') == before:
                self.set(f'{path}.end', value, old)

    def total_epochs(self, value: int) -> None:
        self._epochs(value, 'total_epochs')

    def runner(self, runner: dict) -> None:
        runner = dict(runner)
        kind = runner.pop('type', 'EpochBasedRunner')
        loop = self.cfg.get('train_cfg') or {}
        is_iter = loop.get('type') == 'IterBasedTrainLoop' or 'max_iters' in loop
        if kind == 'EpochBasedRunner' and not is_iter:
            if 'max_epochs' in runner:
                self._epochs(runner.pop('max_epochs'), 'runner.max_epochs')
        elif kind == 'IterBasedRunner' and is_iter:
            if 'max_iters' in runner:
                self.set('train_cfg.max_iters', runner.pop('max_iters'), 'runner.max_iters')
        else:
            target = 'IterBasedTrainLoop, max_iters' if kind == 'IterBasedRunner' else 'EpochBasedTrainLoop, max_epochs'
            raise _refuse(f'runner.type={kind!r}', f"this config's loop is {loop.get('type', 'EpochBasedTrainLoop')}; "
                          f"switching needs train_cfg=dict(type='{target.split(',')[0]}',{target.split(',')[1]}=N) "
                          'and by_epoch on param_scheduler, default_hooks.checkpoint and log_processor')
        if runner:
            raise _refuse(f'runner.{next(iter(runner))}', 'set it on train_cfg (the MMEngine train loop)')

    # ------------------------------------------------------------------ hooks / model
    def _section(self, section: str, old: dict, special: dict, hint: str) -> None:
        """Move each key of the 2.x dict ``section`` to its place in :data:`_MOVES`; ``special[key](value)``
        translates the others it names; any other key is refused with ``hint``."""
        for key, value in old.items():
            path = f'{section}.{key}'
            if path in _MOVES:
                self.set(_MOVES[path], value, path)
            elif key in special:
                special[key](value)
            else:
                raise _refuse(path, hint)

    def evaluation(self, ev: dict) -> None:
        self._section('evaluation', ev, {'metric': self._metric, 'save_best': self._save_best},
                      'set val_evaluator / train_cfg.val_interval')

    def _save_best(self, value) -> None:
        if value not in ('auto', None):
            raise _refuse(f'evaluation.save_best={value!r}', "metric names carry a prefix now: "
                          f"default_hooks.checkpoint.save_best='coco/{value}' (COCO) or 'pascal_voc/{value}' "
                          "(VOC) or 'auto'")
        self.set('default_hooks.checkpoint.save_best', value, 'evaluation.save_best')

    def _metric(self, metric) -> None:
        metrics = [metric] if isinstance(metric, str) else list(metric)
        expected = {'bbox': ('CocoMetric',), 'mAP': ('VOCMetric', 'DOTAMetric')}
        current = self.cfg.get('val_evaluator') or {}
        types = {e.get('type') for e in (current if isinstance(current, (list, tuple)) else [current])}
        for m in metrics:
            if m not in expected:
                raise _refuse(f'evaluation.metric={m!r}', "set val_evaluator=dict(type='CocoMetric', metric=...) "
                              "or dict(type='VOCMetric', ...)")
            if not types & set(expected[m]):
                raise _refuse(f'evaluation.metric={m!r}', f'this config evaluates with {sorted(types)}; set '
                              f"val_evaluator=dict(type='{expected[m][0]}', ...) (tools/test.py --eval {m} "
                              'switches the test metric)')
        self.notices.append(f'evaluation.metric={metric!r} -> already val_evaluator {sorted(types)}')

    def checkpoint_config(self, ck: dict) -> None:
        def create_symlink(value):
            raise _refuse('checkpoint_config.create_symlink', 'the work dir has `last_checkpoint` instead')

        self._section('checkpoint_config', ck, {'create_symlink': create_symlink},
                      'set it on default_hooks.checkpoint (CheckpointHook)')

    def log_config(self, lc: dict) -> None:
        self._section('log_config', lc, {'hooks': self._logger_hooks},
                      'set it on default_hooks.logger or log_processor')

    def _logger_hooks(self, hooks) -> None:
        for hook in hooks or []:
            kind = hook.get('type') if isinstance(hook, dict) else hook
            if kind == 'TextLoggerHook':
                continue  # MMEngine's LoggerHook writes the text log
            backend = {'TensorboardLoggerHook': 'TensorboardVisBackend',
                       'WandbLoggerHook': 'WandbVisBackend'}.get(kind, '...')
            raise _refuse(f'log_config.hooks[{kind}]', "loggers are visualizer backends: "
                          f"visualizer.vis_backends=[dict(type='LocalVisBackend'), dict(type='{backend}')]")

    def img_norm_cfg(self, norm: dict) -> None:
        self._section('img_norm_cfg', norm, {}, 'set model.data_preprocessor instead')

    def fp16(self, value) -> None:
        raise _refuse('fp16', "mixed precision is `tools/train.py --amp` (or optim_wrapper.type='AmpOptimWrapper')")

    def momentum_config(self, value) -> None:
        raise _refuse('momentum_config', 'add a momentum scheduler to param_scheduler '
                      "(e.g. dict(type='CosineAnnealingMomentum', ...))")

    def dist_params(self, value: dict) -> None:
        for key, v in value.items():
            self.set(f'env_cfg.dist_cfg.{key}', v, f'dist_params.{key}')

    def resume_from(self, value) -> None:
        if value is None:
            self.notices.append('resume_from=None -> (nothing to resume)')
            return
        self.set('load_from', value, 'resume_from')
        self.set('resume', True, 'resume_from')

    def workflow(self, value) -> None:
        flow = [tuple(w) for w in value]
        if all(w[0] == 'train' for w in flow):
            self.notices.append(f'workflow={flow!r} -> (default: the train loop; validation every '
                                'train_cfg.val_interval epochs)')
            return
        raise _refuse(f'workflow={flow!r}', 'validation runs every train_cfg.val_interval epochs (val_cfg, '
                      'val_dataloader, val_evaluator)')

    def model(self) -> None:
        model = self.cfg.get('model')
        if not isinstance(model, dict) or 'pretrained' not in model:
            return
        pretrained = model.pop('pretrained')
        if pretrained is None:
            self.notices.append('model.pretrained=None -> (random init)')
            return
        # 'torchvision://' names are read from the hub cache; the backbone refuses what cannot fit it
        self.set('model.backbone.init_cfg', dict(type='Pretrained', checkpoint=pretrained), 'model.pretrained')

    def loop_cfg(self, name: str) -> None:
        """Top-level ``train_cfg`` / ``test_cfg``: detector keys move to ``model.<name>``."""
        loop = self.cfg.get(name)
        if not isinstance(loop, dict):
            return
        keys = MODEL_TRAIN_KEYS if name == 'train_cfg' else MODEL_TEST_KEYS
        legacy = {k: loop[k] for k in list(loop) if k in keys}
        if not legacy:
            return
        model = self.cfg.get('model')
        if not isinstance(model, dict):
            raise _refuse(f'{name}.{next(iter(legacy))}', f'put it in model.{name} (the detector settings)')
        for k in legacy:
            loop.pop(k)
        target = copy.deepcopy(dict(model.get(name) or {}))
        for k, v in legacy.items():
            target[k] = _merge(target.get(k), v)
        self.set(f'model.{name}', target, f'{name}.{"/".join(legacy)} (mmdet 2.x detector settings)')
        if not loop:  # only detector keys were given: MMEngine's loop default
            self.cfg.pop(name)
            self.notices.append(f'{name} -> (removed: it held only detector settings)')


def _merge(old, new):
    """mmdet-2 style dict merge (``_delete_=True`` replaces)."""
    if isinstance(old, dict) and isinstance(new, dict) and not new.get('_delete_', False):
        out = dict(old)
        for k, v in new.items():
            out[k] = _merge(old.get(k), v)
        return out
    if isinstance(new, dict):
        new = {k: v for k, v in new.items() if k != '_delete_'}
    return new


_ORDER: tuple[str, ...] = ('runner', 'total_epochs', 'optimizer', 'optimizer_config', 'lr_config', 'data',
                           'evaluation', 'checkpoint_config', 'log_config', 'img_norm_cfg', 'fp16', 'dist_params',
                           'resume_from', 'workflow', 'momentum_config')


def translate_legacy_keys(cfg, log: Callable[[str], None] | None = None) -> list[str]:
    """Move the mmdet-2.x keys of a merged config to their MMEngine places, in place.

    Args:
        cfg: an mmengine ``Config`` (file + ``--cfg-options`` already merged).
        log: called with each notice line (``'mmdet 2.x key ... -> new.key=value'``); default: none.

    Returns:
        The notices, one per translated key.

    Raises:
        LegacyConfigError: a key with no safe equivalent; the message names the replacement.
    """
    tr = _Translator(cfg)
    tr.model()
    # the schedule first: `runner`/`total_epochs` change max_epochs that lr_config's default end reads
    for key in _ORDER:
        if key in cfg:
            value = cfg.pop(key)
            getattr(tr, key)(value.to_dict() if hasattr(value, 'to_dict') else value)
    tr.loop_cfg('train_cfg')
    tr.loop_cfg('test_cfg')
    lines = [f'mmdet 2.x config key translated: {n}' for n in tr.notices]
    if log is not None:
        for line in lines:
            log(line)
    return lines
