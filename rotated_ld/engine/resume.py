"""Pick the newest *valid* checkpoint of a work dir for ``--resume``.

A checkpoint is valid when its zip container is complete (``torch.save`` writes zip files; a
truncated write fails the central-directory / CRC check). Corrupt files are reported by name and
skipped instead of crashing the resume.
"""
from __future__ import annotations

import glob
import os.path as osp
import re
import zipfile


def checkpoint_is_valid(path: str) -> tuple[bool, str]:
    """Return (valid, reason). Reads the file once (CRC of every member) without unpickling."""
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
        if bad is not None:
            return False, f'corrupt member {bad}'
        return True, ''
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        return False, f'{type(e).__name__}: {e}'


def _order_key(path: str) -> tuple:
    m = re.search(r'(epoch|iter)_(\d+)\.pth$', osp.basename(path))
    return (1, int(m.group(2)), osp.getmtime(path)) if m else (0, 0, osp.getmtime(path))


def find_latest_valid_checkpoint(work_dir: str, logger=None) -> str | None:
    """The newest complete checkpoint in ``work_dir`` (pointer file first, then by number/mtime)."""
    candidates: list[str] = []
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        named = open(pointer).read().strip()
        if named and osp.isfile(named):
            candidates.append(named)
    others = sorted(glob.glob(osp.join(work_dir, '*.pth')), key=_order_key, reverse=True)
    candidates += [p for p in others if p not in candidates and not osp.basename(p).startswith('best_')]
    for path in candidates:
        ok, why = checkpoint_is_valid(path)
        if ok:
            _say(logger, 'info', f'--resume: resuming from {path}')
            return path
        _say(logger, 'warning', f'--resume: skipping corrupt checkpoint {path} ({why})')
    return None


def _say(logger, level: str, msg: str) -> None:
    if logger is not None:
        getattr(logger, level)(msg)
    else:
        print(msg, flush=True)
