"""Pickles of plain data (numpy arrays, containers) read without running pickled code — no torch.

:func:`safe_pickle_load` reads the results ``tools/test.py --out`` writes (``DumpDetResults``); the
numpy part of the allow-list is shared with the checkpoint loader of :mod:`.checkpoint`.
"""
from __future__ import annotations

import codecs
import os.path as osp
import pickle
from typing import Any

import numpy as np

__all__ = ['UnsafeCheckpointError', 'safe_pickle_load']


class UnsafeCheckpointError(RuntimeError):
    """A checkpoint holds pickled objects outside the allow-list, or is not a readable checkpoint."""

    exit_code = 2  # bad input, see rotated_ld.utils.cli


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
