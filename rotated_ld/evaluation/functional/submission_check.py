"""Check a DOTA Task1 submission (zip or folder) before uploading it to the evaluation server.

What the server needs, and what is checked here (each problem names ``file:line``):

* ``layout``            the ``Task1_<class>.txt`` files sit at the root of the zip (no folder);
* ``unexpected_file``   nothing else in the zip (``__MACOSX/``, ``Task2_*.txt``, notes ...);
* ``unknown_class``     a ``Task1_<name>.txt`` whose name is not in the class set (closest name given);
* ``missing_class_file`` one file per class of the set (``dota1.0``: 15, ``dota1.5``: 16, ``dota2.0``: 18);
* ``empty``             a zip (or folder) without any file;
* ``line_too_long``     a line over :data:`MAX_LINE_BYTES` (files are streamed line by line: a
                        1 GiB single-line member is named, not loaded);
* ``field_count``       rows ``image_id score x1 y1 x2 y2 x3 y3 x4 y4`` (10 fields);
* ``non_numeric``       score and coordinates are numbers;
* ``nan_inf``           ... and finite;
* ``patch_name``        image ids are ORIGINAL images (``P0001``), not split patches
                        (``P0001__1024__0___824``: merge the patches first,
                        ``DOTAMetric(merge_patches=True)``);
* ``missing_image`` / ``unknown_image``  with an image list: every listed image has at least one
                        detection, and no detection names an image outside the list (patch
                        names are reported once, as ``patch_name``).

:func:`check_submission` returns a :class:`SubmissionReport`; ``report.ok`` is True when there is
no problem, ``str(report)`` is ``'OK: ...'`` or the list of problems (at most ``show`` per kind,
then a count). Fast path: rows are validated with numpy per file; only files with a problem are
walked line by line to name the lines.
"""
from __future__ import annotations

import difflib
import io
import os
import os.path as osp
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from rotated_ld.datasets.dota_patch_name import image_id, is_patch_name, parse_patch_name

from .dota_io import DOTA_CLASS_SETS, resolve_classes

__all__ = ['PROBLEM_KINDS', 'SubmissionProblem', 'SubmissionReport', 'check_submission', 'read_image_list',
           'resolve_class_set']

PROBLEM_KINDS = ('layout', 'unexpected_file', 'unknown_class', 'missing_class_file', 'encoding', 'field_count',
                 'non_numeric', 'nan_inf', 'patch_name', 'missing_image', 'unknown_image', 'unreadable', 'empty',
                 'line_too_long')
# a Task1 row is ~100 bytes; a longer line is not a detection row (files are read line by line, so a
# 1 GiB single-line member costs this much memory, not gigabytes)
MAX_LINE_BYTES = 4096


@dataclass
class SubmissionProblem:
    """One problem: ``file`` (zip member or path), ``line`` (1-based, None for file-level), kind, message."""
    file: str
    line: int | None
    kind: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f'{self.file}:{self.line}'
        return f'{where}: {self.kind}: {self.message}'


@dataclass
class SubmissionReport:
    """Result of :func:`check_submission` (printable)."""
    source: str
    classes: tuple
    problems: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    num_files: int = 0
    num_detections: int = 0
    images: set = field(default_factory=set)
    show: int = 10

    @property
    def ok(self) -> bool:
        return not self.problems

    def counts(self) -> Counter:
        return Counter(p.kind for p in self.problems)

    def __str__(self) -> str:
        head = (f'{self.num_files} Task1 files, {self.num_detections} detections on {len(self.images)} images, '
                f'{len(self.classes)} classes')
        if self.ok:
            lines = [f'OK: {self.source}: {head}']
        else:
            kinds = ', '.join(f'{k}: {n}' for k, n in self.counts().items())
            lines = [f'FAILED: {self.source}: {len(self.problems)} problems ({kinds}); {head}']
            shown: Counter = Counter()
            for p in self.problems:
                shown[p.kind] += 1
                if shown[p.kind] <= self.show:
                    lines.append(f'  {p}')
            for k, n in self.counts().items():
                if n > self.show:
                    lines.append(f'  ... and {n - self.show} more {k}')
        lines += [f'  warning: {w}' for w in self.warnings[:self.show]]
        if len(self.warnings) > self.show:
            lines.append(f'  ... and {len(self.warnings) - self.show} more warnings')
        return '\n'.join(lines)


def resolve_class_set(classes: str | Sequence[str]) -> tuple:
    """``'dota1.0' | 'dota1.5' | 'dota2.0'`` (also ``'v1.0'``), a class-list file, ``'a,b,c'`` or a sequence."""
    if isinstance(classes, str):
        key = classes.lower()
        if key in DOTA_CLASS_SETS or key in ('v1.0', 'v1.5', 'v2.0'):
            return resolve_classes(key)
        if osp.isfile(classes):
            with open(classes, encoding='utf-8') as f:
                return tuple(ln.strip() for ln in f if ln.strip())
        if ',' in classes:
            return tuple(c.strip() for c in classes.split(',') if c.strip())
        raise ValueError(f'classes={classes!r}; expected one of {sorted(DOTA_CLASS_SETS)}, a class-list file '
                         "or 'a,b,c'")
    return tuple(classes)


def read_image_list(path: str) -> list[str]:
    """Image ids from a text file (one per line; paths and extensions stripped) or an image folder."""
    if osp.isdir(path):
        names = [f for f in os.listdir(path) if not f.startswith('.')]
    else:
        with open(path, encoding='utf-8') as f:
            names = [ln.strip() for ln in f if ln.strip() and not ln.lstrip().startswith('#')]
    return sorted({image_id(n) for n in names})


def _read_limited(fh, name: str, report: SubmissionReport) -> bytes | None:
    """The bytes of one member, read line by line; None (and a ``line_too_long`` problem) when a line
    is longer than :data:`MAX_LINE_BYTES`."""
    lines = []
    n = 0
    while True:
        line = fh.readline(MAX_LINE_BYTES + 1)
        if not line:
            return b''.join(lines)
        n += 1
        if len(line) > MAX_LINE_BYTES:
            report.problems.append(SubmissionProblem(
                name, n, 'line_too_long', f'a line longer than {MAX_LINE_BYTES} bytes (a Task1 row is about 100: '
                'image_id score x1 y1 ... y4); the rest of this file is not read'))
            return None
        lines.append(line)


def _members(path: str, report: SubmissionReport):
    """``(name, read)`` pairs of the zip members (or the folder's Task1 files); ``read()`` streams the
    member through :func:`_read_limited`. None when the zip cannot be opened (problem added)."""
    if osp.isdir(path):
        def reader(p, f):
            def read():
                with open(p, 'rb') as fh:
                    return _read_limited(fh, f, report)
            return read
        return [(f, reader(osp.join(path, f), f)) for f in sorted(os.listdir(path))
                if osp.isfile(osp.join(path, f)) and f.startswith('Task1_')]
    try:
        z = zipfile.ZipFile(path)
        infos = [i for i in z.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError) as e:
        report.problems.append(SubmissionProblem(path, None, 'unreadable', f'not a readable zip: {e}'))
        return None

    def reader(info):
        def read():
            try:
                with z.open(info) as fh:
                    return _read_limited(fh, info.filename, report)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as e:
                report.problems.append(SubmissionProblem(info.filename, None, 'unreadable',
                                                         f'cannot read this zip member: {e}'))
                return None
        return read
    return [(i.filename, reader(i)) for i in infos]


def _check_rows(name: str, text: str, report: SubmissionReport, first_seen: dict) -> None:
    """Validate one Task1 file's rows; add problems; record image ids (and their first line).

    Fast path (numpy's C parser, ~1 s per million rows): every row has exactly 10 tokens (token
    count == 10 x rows and every row parses 9 numbers) and all numbers are finite. Otherwise every
    row is checked in Python to name the bad lines.
    """
    lines = text.splitlines()
    linenos = [n for n, ln in enumerate(lines, 1) if ln.strip()]
    report.num_detections += len(linenos)
    if not linenos:
        return
    tokens = text.split()
    good = len(tokens) == 10 * len(linenos)
    if good:
        try:
            vals = np.loadtxt(io.StringIO(text), usecols=range(1, 10), dtype=np.float64, ndmin=2, comments=None)
            good = len(vals) == len(linenos) and bool(np.isfinite(vals).all())
        except ValueError:
            good = False
    if good:
        ids = tokens[0::10]
    else:  # name every bad line
        ids = []
        for n in linenos:
            t = lines[n - 1].split()
            ids.append(t[0])
            line = ' '.join(t)
            if len(t) != 10:
                report.problems.append(SubmissionProblem(
                    name, n, 'field_count', f'{len(t)} fields, expected 10 (image_id score x1 y1 x2 y2 x3 y3 x4 y4): '
                    f'{line[:120]!r}'))
                continue
            try:
                v = np.array([float(x) for x in t[1:]])
            except ValueError:
                report.problems.append(SubmissionProblem(name, n, 'non_numeric',
                                                         f'score/coordinates must be numbers: {line[:120]!r}'))
                continue
            if not np.isfinite(v).all():
                what = 'score' if not np.isfinite(v[0]) else 'coordinate'
                report.problems.append(SubmissionProblem(name, n, 'nan_inf', f'non-finite {what}: {line[:120]!r}'))
    uniq, first = np.unique(np.asarray(ids), return_index=True)
    for img, i in sorted(zip(uniq.tolist(), first.tolist()), key=lambda x: x[1]):
        n = linenos[i]
        first_seen.setdefault(img, (name, n))
        try:
            image, x, y, rate = parse_patch_name(img)
        except ValueError:
            continue
        report.problems.append(SubmissionProblem(
            name, n, 'patch_name', f'image id {img!r} is a split patch of {image!r} (offset {x}, {y}, rate {rate:g}); '
            'merge patch detections onto the original images first (DOTAMetric(merge_patches=True))'))


def check_submission(path: str, classes: str | Sequence[str] = 'dota1.0', image_list: Iterable[str] | str | None = None,
                     allow_missing_images: bool = False, show: int = 10) -> SubmissionReport:
    """Check a Task1 submission zip (or folder of ``Task1_<class>.txt``); see module docstring.

    Args:
        path: the zip file (or a folder).
        classes: class set name (``dota1.0`` / ``dota1.5`` / ``dota2.0``), a class-list file or names.
        image_list: expected image ids (a sequence, a text file or an image folder); None skips the
            completeness check.
        allow_missing_images: report listed images without detections as warnings, not problems.
        show: problems listed per kind in ``str(report)``.
    """
    class_set = resolve_class_set(classes)
    report = SubmissionReport(source=str(path), classes=class_set, show=show)
    if not osp.exists(path):
        report.problems.append(SubmissionProblem(str(path), None, 'unreadable', 'no such file or folder'))
        return report
    members = _members(path, report)
    if members is None:  # not a readable zip (named in the problem)
        return report
    if not members:
        report.problems.append(SubmissionProblem(
            str(path), None, 'empty', f'no files in it; expected one Task1_<class>.txt per class '
            f'({len(class_set)} for this class set)'))
    seen_classes: dict = {}
    first_seen: dict = {}
    for name, read in members:
        base = name.rsplit('/', 1)[-1]
        if '/' in name.rstrip('/'):
            if base.startswith('Task1_') and base.endswith('.txt') and not name.startswith('__MACOSX'):
                report.problems.append(SubmissionProblem(
                    name, None, 'layout', 'Task1 files must sit at the zip root, not in a folder '
                    '(zip the files, not their folder)'))
            else:
                report.problems.append(SubmissionProblem(name, None, 'unexpected_file',
                                                         'not a Task1_<class>.txt file; remove it'))
                continue
        elif not (base.startswith('Task1_') and base.endswith('.txt')):
            hint = ' (Task2 = horizontal boxes; this is a Task1 check)' if base.startswith('Task2_') else ''
            report.problems.append(SubmissionProblem(name, None, 'unexpected_file',
                                                     f'not a Task1_<class>.txt file{hint}; remove it'))
            continue
        cls = base[len('Task1_'):-len('.txt')]
        if cls not in class_set:
            close = difflib.get_close_matches(cls, class_set, n=1)
            hint = f'; did you mean {close[0]!r}?' if close else ''
            report.problems.append(SubmissionProblem(
                name, None, 'unknown_class', f'class {cls!r} is not one of the {len(class_set)} classes{hint}'))
            continue
        seen_classes[cls] = name
        report.num_files += 1
        data = read()
        if data is None:
            continue
        try:
            text = data.decode('utf-8')
        except UnicodeDecodeError as e:
            report.problems.append(SubmissionProblem(name, None, 'encoding', f'not UTF-8/ASCII text: {e}'))
            continue
        _check_rows(name, text, report, first_seen)
    if members:
        for cls in class_set:
            if cls not in seen_classes:
                report.problems.append(SubmissionProblem(
                    f'Task1_{cls}.txt', None, 'missing_class_file',
                    'no file for this class (write an empty file when there are no detections)'))
    report.images = set(first_seen)
    if image_list is not None:
        expected = read_image_list(image_list) if isinstance(image_list, str) else sorted(set(image_list))
        exp = set(expected)
        patched = {img for img in first_seen if is_patch_name(img)}  # already flagged as patch_name
        parents = {parse_patch_name(img)[0] for img in patched}
        for img in expected:
            if img not in first_seen:
                msg = f'image {img!r} of the image list has no detection in any class file'
                if img in parents:
                    msg += ' (only split patches of it: merge them)'
                if allow_missing_images:
                    report.warnings.append(msg)
                else:
                    report.problems.append(SubmissionProblem('(image list)', None, 'missing_image', msg))
        for img, (f, n) in first_seen.items():
            if img not in exp and img not in patched:
                report.problems.append(SubmissionProblem(f, n, 'unknown_image',
                                                         f'image {img!r} is not in the image list ({len(exp)} images)'))
    return report
