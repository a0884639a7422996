"""Reading and writing DOTA ``labelTxt`` files.

Format: optional header lines ``imagesource:GoogleEarth`` and ``gsd:0.146``, then one object per
line: ``x1 y1 x2 y2 x3 y3 x4 y4 class difficulty`` (the difficulty may be missing, read as 0 like
mmrotate does). Coordinates are pixels of the image the file belongs to.

Malformed lines raise :class:`DOTAFormatError` naming ``file:line``, the kind of problem and the
offending text. With ``strict=False`` they are skipped instead and counted per kind in the
returned ``skipped`` Counter — never dropped silently. Kinds:

* ``encoding``      bytes that are not UTF-8 text
* ``field_count``   not 9 or 10 whitespace-separated fields
* ``non_numeric``   a coordinate that is not a finite number, or a difficulty that is not an
  integer in ``[0, 2**31)``
* ``out_of_range``  a coordinate with ``|v| > max_coord`` (default 1e6 px; DOTA's largest scenes
  are 20 000 px, so such a value is a corrupt line, and its area would overflow)
* ``unknown_class`` a class outside the given class list
* ``degenerate``    polygon area below ``min_area`` (repeated / collinear vertices, or a
  self-intersecting "bow-tie" whose two halves cancel)

Lines are the ``\n``-separated lines of the file (``\r\n`` works), numbered from 1 as editors do.
Self-intersecting polygons with a non-zero area are accepted as they are (the box fit uses
the minimum-area rectangle of the four points, as mmrotate).
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..structures.bbox import poly_area

MALFORMED_KINDS = ('encoding', 'field_count', 'non_numeric', 'out_of_range', 'unknown_class', 'degenerate')
MAX_DIFFICULTY = 2 ** 31 - 1


class DOTAFormatError(ValueError):
    """A malformed DOTA annotation line; the message starts with ``file:line``."""

    def __init__(self, path: str, lineno: int, kind: str, reason: str, text: str):
        self.path, self.lineno, self.kind, self.reason, self.text = path, lineno, kind, reason, text
        super().__init__(f'{path}:{lineno}: {kind}: {reason}; line: {text!r}')

    def __reduce__(self):  # survives pickling (split workers send it to the parent process)
        return type(self), (self.path, self.lineno, self.kind, self.reason, self.text)


@dataclass
class DOTAAnnotation:
    """Objects of one labelTxt file.

    Attributes:
        polys (ndarray): (N, 8) float64 ``x1 y1 ... x4 y4`` in pixels.
        labels (list[str]): N class names.
        difficulties (ndarray): (N,) int64.
        gsd (float | None), imagesource (str | None): header values.
        skipped (Counter): malformed lines skipped per kind (``strict=False`` only).
        linenos (ndarray): (N,) int64 1-based line of each object.
    """
    polys: np.ndarray
    labels: list
    difficulties: np.ndarray
    gsd: float | None = None
    imagesource: str | None = None
    skipped: Counter = field(default_factory=Counter)
    linenos: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


def parse_dota_txt(path: str, classes=None, strict: bool = True, min_area: float = 1e-3,
                   text: str | None = None, max_coord: float = 1e6, errors: list | None = None) -> DOTAAnnotation:
    """Parse a DOTA labelTxt file (see module docstring).

    Args:
        path (str): file path (also used in error messages).
        classes (Sequence[str] | None): allowed class names; None accepts any name.
        strict (bool): raise on malformed lines (default) or skip and count them.
        min_area (float): polygons with a smaller area (px²) are ``degenerate``.
        text (str | None): file content, when already read.
        max_coord (float): coordinates with a larger absolute value are ``out_of_range``.
        errors (list | None): with ``strict=False``, every skipped line is appended as a
            :class:`DOTAFormatError` (``tools/analysis_tools/check_dataset.py`` reports them all with
            the parser's own rules, so its OK means the dataset and the split tool accept the file).
    """
    if text is None:
        with open(path, 'rb') as f:
            lines = f.read().split(b'\n')
    else:
        lines = text.split('\n')
    allowed = None if classes is None else set(classes)
    polys, labels, diffs, linenos = [], [], [], []
    gsd = imagesource = None
    skipped: Counter = Counter()

    def bad(lineno, kind, reason, line):
        if strict:
            raise DOTAFormatError(path, lineno, kind, reason, line)
        skipped[kind] += 1
        if errors is not None:
            errors.append(DOTAFormatError(path, lineno, kind, reason, line))

    for lineno, line in enumerate(lines, 1):
        if isinstance(line, bytes):
            try:
                line = line.decode('utf-8')
            except UnicodeDecodeError as e:
                bad(lineno, 'encoding', f'byte 0x{line[e.start]:02x} at column {e.start + 1} is not UTF-8 text',
                    line.decode('utf-8', 'backslashreplace'))
                continue
        s = line.strip()
        if not s:
            continue
        low = s.lower()
        if low.startswith('imagesource:'):
            imagesource = s.split(':', 1)[1].strip()
            continue
        if low.startswith('gsd:'):
            try:
                gsd = float(s.split(':', 1)[1])
                gsd = gsd if math.isfinite(gsd) else None
            except ValueError:  # 'gsd:null' occurs in the official files
                gsd = None
            continue
        items = s.split()
        if len(items) not in (9, 10):
            bad(lineno, 'field_count', f'expected 9 or 10 fields (8 coordinates, class, difficulty), '
                f'got {len(items)}', line)
            continue
        try:
            coords = [float(v) for v in items[:8]]
            if not all(math.isfinite(v) for v in coords):
                raise ValueError
        except ValueError:
            bad(lineno, 'non_numeric', 'expected 8 finite numbers x1 y1 ... x4 y4 before the class', line)
            continue
        if max(abs(v) for v in coords) > max_coord:
            bad(lineno, 'out_of_range', f'coordinate {max(coords, key=abs):g} beyond ±{max_coord:g} px', line)
            continue
        try:
            diff = int(items[9]) if len(items) == 10 else 0
            if not 0 <= diff <= MAX_DIFFICULTY:
                raise ValueError
        except ValueError:
            bad(lineno, 'non_numeric', f'difficulty {items[9]!r} is not an integer in [0, 2**31)', line)
            continue
        name = items[8]
        if allowed is not None and name not in allowed:
            bad(lineno, 'unknown_class', f'class {name!r} is not one of the {len(allowed)} dataset classes', line)
            continue
        if poly_area(coords) < min_area:
            bad(lineno, 'degenerate', f'polygon area {poly_area(coords):.3g} px² < {min_area:g} '
                '(repeated or collinear vertices, or a self-intersecting bow-tie)', line)
            continue
        polys.append(coords)
        labels.append(name)
        diffs.append(diff)
        linenos.append(lineno)
    return DOTAAnnotation(
        polys=np.asarray(polys, np.float64).reshape(-1, 8), labels=labels,
        difficulties=np.asarray(diffs, np.int64), gsd=gsd, imagesource=imagesource, skipped=skipped,
        linenos=np.asarray(linenos, np.int64))


def format_coord(v: float) -> str:
    """Shortest text of a coordinate rounded to 1e-6 px (``'123.0'``, ``'-7.25'``)."""
    r = round(float(v), 6)
    return repr(r + 0.0)  # + 0.0 turns -0.0 into 0.0


def format_dota_line(poly, label: str, difficulty: int) -> str:
    return ' '.join(format_coord(v) for v in poly) + f' {label} {int(difficulty)}'
