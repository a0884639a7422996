"""Helpers shared by the command-line tools: config loading, friendly registry errors, CPU DDP."""
from __future__ import annotations

import argparse
import ast
import difflib
import os
import os.path as osp
import re
import subprocess
import sys
from typing import Any

from mmengine.config import Config, DictAction
from mmengine.registry import Registry

from .config_alias import resolve_alias
from .legacy_config import translate_legacy_keys

# torch, torch.distributed, mmengine.runner and rotated_ld.registry (which installs the checkpoint
# loader, i.e. imports torch) are imported inside the functions that need them: the tools import
# this module for --help and config handling and must start without torch.


def parse_cfg_options(items: list[str] | dict | None) -> dict:
    """``--cfg-options`` given as ``['a.b=1', 'c=[1,2]']`` strings → dict, by MMEngine's ``DictAction``
    rules (a dict passes through; ``None`` / empty → ``{}``). For tools that keep argparse free of
    the mmengine import."""
    if not items:
        return {}
    if isinstance(items, dict):
        return dict(items)
    ns = argparse.Namespace()
    DictAction(option_strings=[], dest='cfg_options')(None, ns, list(items))
    return ns.cfg_options or {}


def config_notice(message: str) -> None:
    """One notice line on stderr, from rank 0 only (the tools run once per process under DDP)."""
    if os.environ.get('RANK', '0') == '0' and os.environ.get('LOCAL_RANK', '0') == '0':
        print(f'note: {message}', file=sys.stderr, flush=True)


def finish_config(cfg: Config, path: str, cfg_options: list[str] | dict | None = None,
                  log=config_notice) -> Config:
    """What every tool does after ``Config.fromfile``: upstream alias notice (or refusal),
    ``--cfg-options`` merged, mmdet 2.x keys translated (or refused, naming the replacement)."""
    resolve_alias(cfg, path, log)
    options = parse_cfg_options(cfg_options)
    if options:
        cfg.merge_from_dict(options)
    translate_legacy_keys(cfg, log)
    return cfg


def load_config(config: str, cfg_options: list[str] | dict | None = None) -> Config:
    """``Config.fromfile(config)`` with ``--cfg-options`` (strings or a dict) merged; a missing file is
    a ``FileNotFoundError`` that names it. An upstream (LD / Rotated-LD repository) config name
    prints the project's name; mmdet 2.x keys (``data.samples_per_gpu``, ``optimizer``, ...) in the
    file or the options are moved to their MMEngine keys with a notice, or refused
    (:class:`~rotated_ld.utils.legacy_config.LegacyConfigError`) with the replacement named."""
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file not found: {config}')
    try:
        cfg = Config.fromfile(config)
    except SyntaxError as e:  # MMEngine parses the text without its file name ('<unknown>:1')
        where = config
        try:
            with open(config, encoding='utf-8') as f:
                ast.parse(f.read(), filename=config)
            where = f'{config} (in one of its _base_ files)'
        except SyntaxError:
            pass
        raise ValueError(f'{where}:{e.lineno}: invalid Python syntax ({e.msg})') from e
    return finish_config(cfg, config, cfg_options)


def load_tool_config(config: str, launcher: str, cfg_options: list[str] | dict | None,
                     work_dir: str | None) -> Config:
    """The config of tools/train.py and tools/test.py with the command line applied.

    Work-dir precedence as in mmdet: ``--work-dir`` > the config's ``work_dir`` >
    ``./work_dirs/<config name>``.
    """
    cfg = load_config(config, cfg_options)
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config))[0])
    return cfg


def check_schedule(cfg: Config, config: str = 'the config') -> None:
    """Refuse a ``param_scheduler`` entry that starts at or after the end of training, in one line
    naming the keys to change (MMEngine raises a bare ``ValueError`` deep in the scheduler, e.g. the
    demo config with ``--cfg-options train_cfg.max_iters=8``: its cosine phase begins at 50)."""
    train_cfg = cfg.get('train_cfg') or {}
    scheds = cfg.get('param_scheduler') or []
    scheds = [scheds] if isinstance(scheds, dict) else list(scheds)
    for i, s in enumerate(scheds):
        if not isinstance(s, dict):
            continue
        by_epoch = s.get('by_epoch', True)
        key = 'max_epochs' if by_epoch else 'max_iters'
        total = train_cfg.get(key)
        if total is None:  # e.g. an iteration scheduler in an epoch loop: lengths depend on the data
            continue
        begin, end = s.get('begin', 0), s.get('end')
        name = f'param_scheduler.{i}' if isinstance(cfg.get('param_scheduler'), (list, tuple)) else 'param_scheduler'
        if begin >= total:
            raise ValueError(
                f'{config}: {name} ({s.get("type")}) begins at {"epoch" if by_epoch else "iteration"} {begin}, at or '
                f'after the end of training (train_cfg.{key}={total}); shorten the schedule with the training, e.g. '
                f'--cfg-options train_cfg.{key}={total} ' + ' '.join(_scaled_bounds(scheds, total)))
        if end is not None and end <= begin:
            raise ValueError(f'{config}: {name}.end={end} must be larger than {name}.begin={begin}')


def _scaled_bounds(scheds: list, total: int) -> list:
    """``param_scheduler.i.begin/end=...`` options that fit every phase into ``total`` (warm-up = total // 5)."""
    warm = max(1, total // 5)
    out = []
    for i, s in enumerate(scheds):
        if not isinstance(s, dict):
            continue
        if s.get('begin', 0) > 0:
            out.append(f'param_scheduler.{i}.begin={warm}')
        if s.get('end') is not None and s.get('end') > total:
            out.append(f'param_scheduler.{i}.end={warm}')
    return out


def did_you_mean(error: KeyError) -> str | None:
    """Turn MMEngine's 'X is not in the S::R registry' KeyError into a one-line hint.

    Returns the message with the closest registered names, or None if the error is of another kind.
    """
    msg = str(error.args[0]) if error.args else str(error)
    m = re.search(r'(\S+) is not in the (\S+?)::(\S+) registry', msg)
    if m is None:
        return None
    name, scope, reg_name = m.groups()
    # local: the registry imports torch and utils (a cycle); see the module's import note
    from .. import registry as ours

    table = {r.name: r for r in vars(ours).values() if isinstance(r, Registry)}
    registry = table.get(reg_name)
    valid: list[str] = []
    if registry is not None:
        registry.import_from_location()
        valid = sorted(set(registry.module_dict) | set(registry.parent.module_dict if registry.parent else {}))
    close = difflib.get_close_matches(name, valid, n=3, cutoff=0.5)
    hint = f' Did you mean {", ".join(map(repr, close))}?' if close else ''
    return f"type {name!r} is not registered in the '{scope}' {reg_name!r} registry.{hint}"


def init_cpu_distributed(cfg: Config) -> None:
    """Start a gloo process group ourselves on CPU and make DDP use ``device_ids=None``.

    MMEngine's pytorch launcher calls ``torch.cuda.set_device`` and its DDP wrapper passes
    ``device_ids=[local_rank]``; both fail without CUDA. The Runner skips its own init when a
    process group already exists.
    """
    import torch.distributed as dist  # local: setup_env stays torch-free for the data tools

    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper


def init_cpu_slurm(cfg: Config, port: int = 29500) -> None:
    """SLURM launcher without CUDA: derive torch.distributed's env from SLURM's and start gloo.

    MMEngine's slurm init calls ``torch.cuda.set_device``; this mirrors its env handling
    (``MASTER_ADDR`` = first host of ``SLURM_NODELIST``, ``MASTER_PORT`` from env or ``port``).
    """
    env = os.environ
    env['RANK'] = env['SLURM_PROCID']
    env['WORLD_SIZE'] = env['SLURM_NTASKS']
    env['LOCAL_RANK'] = env.get('SLURM_LOCALID', '0')
    if 'MASTER_ADDR' not in env:
        nodes = env.get('SLURM_NODELIST', '127.0.0.1')
        try:
            out = subprocess.run(['scontrol', 'show', 'hostname', nodes], capture_output=True, text=True,
                                 check=True).stdout
            env['MASTER_ADDR'] = out.split()[0]
        except (OSError, subprocess.CalledProcessError, IndexError):
            env['MASTER_ADDR'] = nodes.split(',')[0]
    env.setdefault('MASTER_PORT', str(port))
    init_cpu_distributed(cfg)


def world_size_from_env() -> int:
    return int(os.environ.get('WORLD_SIZE', '1'))


def train_batch_size(cfg: Config) -> Any:
    loader = cfg.get('train_dataloader') or {}
    return loader.get('batch_size')


def run_with_runner(cfg: Config, config_path: str, launcher: str, action, on_built=None) -> int:
    """Shared body of tools/train.py and tools/test.py: CPU launchers, Runner.

    Args:
        cfg: the config with the command line applied.
        config_path: the config file (named in error messages).
        launcher: ``'none' | 'pytorch' | 'slurm' | 'mpi'``.
        action: called with the built runner (``lambda r: r.train()``).
        on_built: optional callback with the runner before ``action`` (e.g. to log the lr).

    Returns:
        0. Errors propagate to the tool's entry wrapper (:mod:`rotated_ld.utils.cli`), which prints one
        line and returns the documented exit code (2 for an unknown ``type`` in the config, with the
        closest registered names; 3 for a non-finite loss).
    """
    import torch  # local: setup_env stays torch-free for the data tools (module import note)
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    if launcher == 'pytorch' and not torch.cuda.is_available():
        init_cpu_distributed(cfg)
    elif launcher == 'slurm' and not torch.cuda.is_available():
        init_cpu_slurm(cfg)
    try:
        runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
        if on_built is not None:
            on_built(runner)
        action(runner)
    except KeyError as e:
        hint = did_you_mean(e)
        if hint is None:
            raise
        raise KeyError(f'{config_path}: {hint}') from e
    return 0
