"""PEP 562 lazy exports for package ``__init__`` files.

Why: the data tools (split, label I/O, evaluation functions, converters) need no torch, but a
package ``__init__`` that eagerly imports its registered classes (datasets, metrics: they subclass
MMEngine classes that import torch) makes every ``import rotated_ld.<pkg>.<module>`` pay the
5-7 s torch import. With lazy exports ``from rotated_ld.datasets import DOTADataset`` still works;
the submodule is imported on first attribute access. Registration does not depend on these
``__init__`` files: :mod:`rotated_ld.registry` names the registering modules in ``locations``.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Callable


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable[[str], object], Callable[[], list]]:
    """``(__getattr__, __dir__)`` for ``package`` resolving ``name`` from ``exports[name]``.

    Args:
        package: the package's ``__name__``.
        exports: public name -> relative submodule that defines it (e.g. ``'.dota'``).
            Names that are submodules of ``package`` (``rotated_ld.datasets.split``) need no
            entry: they are imported on first access too.
    """
    def __getattr__(name: str):
        if name in exports:
            return getattr(importlib.import_module(exports[name], package), name)
        if not name.startswith('__') and importlib.util.find_spec(f'{package}.{name}') is not None:
            return importlib.import_module(f'{package}.{name}')
        raise AttributeError(f'module {package!r} has no attribute {name!r}')

    def __dir__() -> list:
        return sorted(set(exports) | set(globals_of(package)))

    return __getattr__, __dir__


def globals_of(package: str) -> dict:
    return vars(sys.modules[package])
