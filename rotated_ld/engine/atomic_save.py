"""Checkpoints that survive a kill: MMEngine's local file backend, made atomic.

MMEngine writes checkpoints with ``open(path, 'wb').write(bytes)``; a process killed mid-write
leaves a truncated ``epoch_N.pth`` that a later ``--resume`` trips over. We register a local
backend whose ``put`` writes to a temporary file in the same folder, fsyncs it, renames it over
the target (atomic on POSIX and Windows) and fsyncs the folder. The ``last_checkpoint`` pointer is
written by MMEngine after the save returns, so it only ever names complete files.

The file gets the mode ``torch.save`` / ``open`` would give it (0666 minus the umask: 0644 under
022), not ``mkstemp``'s 0600, so team-shared work dirs stay readable. A save killed mid-write
leaves ``.<name>.<random>.tmp``; :func:`remove_stale_temp_files` deletes those at the next start
(``tools/train.py``) and logs each.
"""
from __future__ import annotations

import os
import os.path as osp
import re
import tempfile
from pathlib import Path
from typing import Union

from mmengine.fileio.backends import LocalBackend, register_backend


def _current_umask() -> int:
    mask = os.umask(0)  # the only portable way to read it; restored at once
    os.umask(mask)
    return mask


# ``.{target name}.{mkstemp's random part}.tmp`` (see atomic_write_bytes)
_TEMP_RE = re.compile(r'^\.(?P<target>.+)\.[A-Za-z0-9_]{6,}\.tmp$')


def remove_stale_temp_files(folder: str, log=print) -> list:
    """Delete the temporary files that killed :func:`atomic_write_bytes` calls left in ``folder``
    (``.iter_8.pth.k2j4h1x0.tmp``: a 14 MB partial checkpoint each); ``log`` each one. Call it when
    no save is running in ``folder`` (the start of training). Returns the removed paths."""
    removed = []
    if not osp.isdir(folder):
        return removed
    for name in sorted(os.listdir(folder)):
        path = osp.join(folder, name)
        if _TEMP_RE.match(name) and osp.isfile(path):
            size = osp.getsize(path)
            os.unlink(path)
            removed.append(path)
            log(f'removed {path} ({size} bytes): a partial file of a save that was killed')
    return removed


def atomic_write_bytes(data: bytes, filepath: Union[str, Path]) -> None:
    """Write ``data`` to ``filepath`` so that readers see the old file or the whole new one."""
    filepath = str(filepath)
    folder = osp.dirname(osp.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{osp.basename(filepath)}.', suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            if hasattr(os, 'fchmod'):  # mkstemp makes 0600; give the mode a plain open() would
                os.fchmod(f.fileno(), 0o666 & ~_current_umask())
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        if osp.exists(tmp):
            os.unlink(tmp)
        raise
    try:  # persist the rename itself
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:  # some filesystems (and Windows) refuse fsync on folders
        pass


class AtomicLocalBackend(LocalBackend):
    """:class:`LocalBackend` whose ``put`` / ``put_text`` are atomic (see module docstring)."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write_bytes(obj, filepath)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        atomic_write_bytes(obj.encode(encoding), filepath)


register_backend('local', AtomicLocalBackend, force=True, prefixes='')
