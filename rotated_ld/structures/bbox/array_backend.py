"""One code path for numpy arrays and torch tensors in the box functions of this package.

The box formulas (angle wrap, converters, polygon area, rescale) are written once against the
small set of functions numpy and torch share (``cos``, ``sin``, ``where``, ``remainder``, ``stack``
with ``axis=``, ``roll``, ...). :func:`array_module` picks the module from the argument, so a
tensor stays a tensor (differentiable, on its device) and an array stays an array.

This module never imports torch: the evaluation, the DOTA tools and the dataset converters use
these functions on numpy arrays and must start without torch. A tensor argument means torch is
already loaded, so it is looked up in ``sys.modules``.
"""
from __future__ import annotations

import sys
from functools import wraps
from types import ModuleType
from typing import Any, Callable

import numpy as np


def array_module(x: Any) -> ModuleType:
    """``torch`` for a tensor, ``numpy`` for anything else (arrays, lists, Python numbers)."""
    torch = sys.modules.get('torch')
    if torch is not None and isinstance(x, torch.Tensor):
        return torch
    return np


def as_float(x: Any) -> Any:
    """``x`` as a floating array of its own kind.

    Tensors keep their floating dtype (integer tensors become the default float dtype); numpy
    arrays keep a floating dtype, everything else (ints, lists, numbers) becomes float64.
    """
    xp = array_module(x)
    if xp is np:
        x = np.asarray(x)
        return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)
    return x if xp.is_floating_point(x) else x.to(xp.get_default_dtype())


def stack_last(parts: list, like: Any) -> Any:
    """Stack same-shaped arrays along a new last axis, with the module of ``like``."""
    return array_module(like).stack(parts, axis=-1)


def torch_function(fn: Callable) -> Callable:
    """Let a torch-only box function also take a numpy array as first argument (numpy back).

    For the few functions not written against both modules (:func:`.converters.poly2rbox`).
    Integer inputs are converted to the default float dtype (box coordinates are real).
    """

    @wraps(fn)
    def wrapper(x, *args, **kwargs):
        import torch  # local: structures.bbox stays torch-free; torch only for tensor inputs

        is_np = not isinstance(x, torch.Tensor)
        t = torch.from_numpy(np.ascontiguousarray(x)) if is_np else x
        if not torch.is_floating_point(t):
            t = t.to(torch.get_default_dtype())
        out = fn(t, *args, **kwargs)
        if is_np:
            return tuple(o.numpy() for o in out) if isinstance(out, tuple) else out.numpy()
        return out

    return wrapper


__all__ = ['array_module', 'as_float', 'stack_last', 'torch_function']
