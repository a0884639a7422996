"""Safe checkpoint loading on torch >= 2.6 (``weights_only=True`` by default).

MMEngine 0.10 calls ``torch.load`` without ``weights_only``; on torch >= 2.6 that means
``weights_only=True`` and MMEngine's own checkpoints (they pickle ``HistoryBuffer`` and numpy
arrays in the message hub) fail to load, which breaks ``--resume`` and ``load_from``.
We replace MMEngine's local-file loader once, with ``weights_only=True`` plus an explicit
allow-list of exactly the types MMEngine stores. Arbitrary pickled objects are still refused
(never ``weights_only=False`` for user files); the refusal names the file and the offending
global. The allow-list applies only inside this loader: a bare ``torch.load`` stays strict.
"""
from __future__ import annotations

import os.path as osp
import pickle
import zipfile
from typing import Any, Callable, Iterable, Mapping, NamedTuple

import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

# the numpy allow-list and the results unpickler need no torch: they live in .safe_pickle
from .safe_pickle import UnsafeCheckpointError, _numpy_globals, safe_pickle_load  # noqa: F401


class CorruptCheckpointError(UnsafeCheckpointError):
    """A checkpoint file that ``torch.load`` cannot read: empty, truncated or not a checkpoint."""


def safe_globals() -> list:
    """The allow-list: types MMEngine writes into checkpoints besides tensors and containers."""
    # getattr: HistoryBuffer pickles its statistic methods as getattr(HistoryBuffer, 'min').
    return [HistoryBuffer, getattr, *_numpy_globals()]


def safe_torch_load(filename: str, map_location: Any = 'cpu') -> Any:
    """``torch.load(weights_only=True)`` with :func:`safe_globals` allowed.

    Raises:
        FileNotFoundError: the file does not exist.
        UnsafeCheckpointError: the file holds a pickled object outside the allow-list; the message
            names the file and the refused global.
        CorruptCheckpointError: empty, truncated or not a checkpoint (message names the file and size).
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint not found: {filename}')
    size = osp.getsize(filename)
    if size == 0:
        raise CorruptCheckpointError(f'cannot read checkpoint {filename}: the file is empty (0 bytes); expected a '
                                     'file written by torch.save (was a save or copy killed?)')
    try:
        with torch.serialization.safe_globals(safe_globals()):
            return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        first = str(e).strip().splitlines()
        detail = next((ln for ln in first if 'GLOBAL' in ln or 'Unsupported' in ln), first[0] if first else '')
        raise UnsafeCheckpointError(
            f'refused to load {filename}: it contains a pickled object that is not on the allow-list '
            f'of checkpoint types ({detail.strip()}). Only load checkpoints you trust; re-save it as a '
            f'plain state_dict to load it here.') from e
    except (EOFError, RuntimeError, OSError, KeyError, ValueError, IndexError) as e:
        # torch.load on a truncated zip / garbage: EOFError, "failed finding central directory",
        # "[Errno 22] Invalid argument", a KeyError of a stray pickle opcode... none name the file
        if isinstance(e, RuntimeError) and 'zip archive' not in str(e) and zipfile.is_zipfile(filename):
            raise  # a complete file: a device / map_location problem, not a corrupt checkpoint
        first = (str(e).strip().splitlines() or [''])[0].split('. ')[0][:160]
        raise CorruptCheckpointError(
            f'cannot read checkpoint {filename} ({size} bytes): {type(e).__name__}: {first}; expected a complete '
            'file written by torch.save (is it truncated by a killed save or copy, or not a checkpoint?)') from e


@CheckpointLoader.register_scheme(prefixes='', force=True)
def load_from_local(filename: str, map_location: Any) -> Any:
    """MMEngine's local-path scheme, replaced by :func:`safe_torch_load`."""
    return safe_torch_load(filename, map_location)


def summarize_keys(keys: Iterable[str], max_items: int = 12) -> str:
    """All keys when there are at most ``max_items``; else grouped by module prefix with counts.

    The prefix depth is the deepest one that still gives at most ``max_items`` groups, e.g.
    ``backbone.layer1.* (60), bbox_head.gfl_cls.{bias, weight}``.
    """
    keys = sorted(set(keys))
    if len(keys) <= max_items:
        return ', '.join(keys)
    depth_groups = None
    max_depth = max(len(k.split('.')) for k in keys)
    for depth in range(1, max_depth):
        groups: dict = {}
        for k in keys:
            parts = k.split('.')
            groups.setdefault('.'.join(parts[:depth]), []).append(k)
        if len(groups) > max_items:
            break
        depth_groups = groups
    if depth_groups is None:  # even the top-level modules are too many: list the first ones
        return ', '.join(keys[:max_items]) + f', ... ({len(keys) - max_items} more)'
    out = []
    for prefix, members in depth_groups.items():
        if len(members) == 1:
            out.append(members[0])
        elif len(members) <= 3:
            out.append(prefix + '.{' + ', '.join(m[len(prefix) + 1:] for m in members) + '}')
        else:
            out.append(f'{prefix}.* ({len(members)})')
    return ', '.join(out)


class StateDictDiff(NamedTuple):
    """How a checkpoint's state dict differs from a model's (keys in the model's / file's order)."""

    missing: list[str]  # in the model, not in the checkpoint
    unexpected: list[str]  # in the checkpoint, not in the model
    shapes: list[str]  # in both, with another shape
    common: int  # how many names the two share

    def describe(self, state: Mapping[str, torch.Tensor], own: Mapping[str, torch.Tensor], target: str) -> str:
        """One line naming what is missing, unexpected and mis-shaped (keys by :func:`summarize_keys`);
        ``target`` names what the checkpoint was compared with (``'model'``, ``'teacher config'``)."""
        parts = []
        if self.missing:
            parts.append(f'{len(self.missing)} missing from the checkpoint: {summarize_keys(self.missing)}')
        if self.unexpected:
            parts.append(f'{len(self.unexpected)} unexpected in the checkpoint: {summarize_keys(self.unexpected)}')
        if self.shapes:
            detail = '; '.join(f'{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}' for k in self.shapes[:4])
            more = f' (+{len(self.shapes) - 4} more)' if len(self.shapes) > 4 else ''
            parts.append(f'{len(self.shapes)} with another shape (checkpoint vs {target}): {detail}{more}')
        return ' | '.join(parts)


def diff_state_dict(own: Mapping[str, torch.Tensor], state: Mapping[str, torch.Tensor],
                    skip_missing: Callable[[str], bool] = lambda k: False,
                    skip_unexpected: Callable[[str], bool] = lambda k: False) -> StateDictDiff:
    """Compare ``state`` (a checkpoint) with ``own`` (``model.state_dict()``) key by key.

    ``skip_missing`` / ``skip_unexpected`` name keys that do not count as missing / unexpected
    (e.g. ``num_batches_tracked``, distillation-only weights); callers format the message.
    """
    return StateDictDiff(
        missing=[k for k in own if k not in state and not skip_missing(k)],
        unexpected=[k for k in state if k not in own and not skip_unexpected(k)],
        shapes=[k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)],
        common=len(set(own) & set(state)))


def unwrap_state_dict(ckpt: Any, what: str, error: type[Exception] = ValueError,
                      strip_ddp: bool = True) -> tuple[dict, dict]:
    """``(state_dict, meta)`` of a loaded checkpoint, as every loader of the package reads it.

    Accepts the ``state_dict`` entry (MMEngine / mmdet), the ``model`` entry (torchvision-style
    trainers) or a bare state dict; ``meta`` is the checkpoint's ``meta`` dict (``{}`` if none).
    ``strip_ddp`` removes DDP ``module.`` key prefixes (the weight importer keeps them and reports
    the rename itself).

    Raises:
        error: ``ckpt`` holds no non-empty dict of tensors; the message starts with ``what``
            (the file, or the config key that named it).
    """
    meta = ckpt.get('meta') if isinstance(ckpt, dict) and isinstance(ckpt.get('meta'), dict) else {}
    state = ckpt
    if isinstance(ckpt, dict):
        state = next((ckpt[key] for key in ('state_dict', 'model') if isinstance(ckpt.get(key), dict)), ckpt)
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise error(f'{what} holds no state dict (expected a dict of tensors, or one under "state_dict" / "model")')
    if strip_ddp:
        return {(k[7:] if k.startswith('module.') else k): v for k, v in state.items()}, meta
    return dict(state), meta
