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

import codecs
import os.path as osp
import pickle
from typing import Any, Callable, Mapping, NamedTuple

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader


class UnsafeCheckpointError(RuntimeError):
    """A checkpoint holds pickled objects outside the allow-list."""


def _numpy_globals() -> list:
    mu = getattr(np, '_core', np.core).multiarray  # numpy>=2 moved core to _core
    allow: list = [np.ndarray, np.dtype, mu._reconstruct, mu.scalar,
                   # checkpoints written under numpy 1.x name the old module path
                   (mu._reconstruct, 'numpy.core.multiarray._reconstruct'),
                   (mu.scalar, 'numpy.core.multiarray.scalar')]
    # numpy dtype classes (np.dtypes.Float64DType, ...) appear in pickles of np.dtype objects.
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        allow += [getattr(dtypes, n) for n in dir(dtypes) if n.endswith('DType')]
    return allow


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
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint not found: {filename}')
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


@CheckpointLoader.register_scheme(prefixes='', force=True)
def load_from_local(filename: str, map_location: Any) -> Any:
    """MMEngine's local-path scheme, replaced by :func:`safe_torch_load`."""
    return safe_torch_load(filename, map_location)


class StateDictDiff(NamedTuple):
    """How a checkpoint's state dict differs from a model's (keys in the model's / file's order)."""

    missing: list[str]  # in the model, not in the checkpoint
    unexpected: list[str]  # in the checkpoint, not in the model
    shapes: list[str]  # in both, with another shape
    common: int  # how many names the two share


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


def _allowed_pickle_globals() -> dict:
    """``{(module, name): object}`` for :func:`safe_pickle_load`: the numpy part of the allow-list."""
    out = {}
    for entry in _numpy_globals():
        obj, name = entry if isinstance(entry, tuple) else (entry, f'{entry.__module__}.{entry.__qualname__}')
        module, _, attr = name.rpartition('.')
        out[(module, attr)] = obj
    # pickle protocol 2 (mmengine.dump's) writes bytes as _codecs.encode(str, 'latin1'): a pure function
    out[('_codecs', 'encode')] = codecs.encode
    return out


class _AllowListUnpickler(pickle.Unpickler):
    def __init__(self, file: Any) -> None:
        super().__init__(file)
        self._allowed = _allowed_pickle_globals()  # once per load, not per pickled global

    def find_class(self, module: str, name: str) -> Any:
        obj = self._allowed.get((module, name))
        if obj is None:
            raise pickle.UnpicklingError(f'global {module}.{name} is not on the allow-list')
        return obj


def safe_pickle_load(filename: str) -> Any:
    """Load a plain pickle holding only builtins and numpy arrays / scalars (e.g. the results that
    ``tools/test.py --out`` writes); any other pickled global is refused, so loading runs no code.

    Raises:
        FileNotFoundError: the file does not exist.
        UnsafeCheckpointError: a refused global (named in the message) or a broken pickle.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'file not found: {filename}')
    try:
        with open(filename, 'rb') as f:
            return _AllowListUnpickler(f).load()
    except (pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError) as e:
        raise UnsafeCheckpointError(f'refused to load {filename}: {e}. Only plain containers and numpy arrays '
                                    'are read from pickles here (tools/test.py --out writes such files)') from e
