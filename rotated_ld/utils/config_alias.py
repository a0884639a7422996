"""Config names of the LD / Rotated-LD repositories (mmdet 2.x / mmrotate 0.x naming) resolved here.

An alias is a thin config file under the upstream name that inherits this project's config
(``_base_ = './ld_r50-gfl-r101_fpn_1x_coco.py'``) and carries one marker::

    upstream_alias = dict(repo='HikariTJU/LD', name='ld_gflv1_r101_r50_fpn_coco_1x',
                          ours='configs/ld/ld_r50-gfl-r101_fpn_1x_coco.py')

A name whose detector this project does not implement carries ``refused='<why; what exists>'``
instead of a ``_base_``. :func:`resolve_alias` (called by every tool through
``setup_env.load_config`` and ``apis.inference``) prints the project's name for an alias and
raises :class:`ConfigAliasRefused` for a refused one; the marker is removed from the config.
The table of all aliases is in docs/upstream_configs.md.
"""
from __future__ import annotations

from typing import Callable

__all__ = ['ALIAS_KEY', 'ConfigAliasRefused', 'is_upstream_alias', 'resolve_alias']

ALIAS_KEY = 'upstream_alias'


class ConfigAliasRefused(ValueError):
    """An upstream config name for a detector this project does not implement."""

    exit_code = 2  # bad input (see rotated_ld.utils.cli)


def resolve_alias(cfg, path: str, log: Callable[[str], None] | None = None) -> str | None:
    """Handle the ``upstream_alias`` marker of a loaded config (in place).

    Args:
        cfg: the mmengine ``Config`` loaded from ``path``.
        path: the config file as the user gave it (named in the notice / error).
        log: called with the one-line notice for an alias.

    Returns:
        The notice, or None when the config is not an alias.

    Raises:
        ConfigAliasRefused: the upstream name of a detector not implemented here; the message says
            what exists instead.
    """
    marker = cfg.pop(ALIAS_KEY, None) if ALIAS_KEY in cfg else None
    if marker is None:
        return None
    repo, name = marker.get('repo', 'upstream'), marker.get('name', path)
    if marker.get('refused'):
        raise ConfigAliasRefused(f'{path}: {name} ({repo}) is not available in this project: {marker["refused"]}')
    notice = f'{path} is the {repo} name {name!r}; this project calls it {marker["ours"]}'
    if marker.get('differs'):
        notice += f' ({marker["differs"]})'
    if log is not None:
        log(notice)
    return notice


def is_upstream_alias(path: str) -> bool:
    """True for a config file that only stands for an upstream name (alias or refusal), judged by its text
    (no parsing: refused names have no model to build)."""
    with open(path, encoding='utf-8') as f:
        return f'\n{ALIAS_KEY} = ' in '\n' + f.read()
