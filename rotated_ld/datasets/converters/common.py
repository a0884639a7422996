"""Shared pieces of the annotation converters: the report, DOTA label writing, geometry, image size.

Every converter turns foreign files into :class:`DOTAObject` lists (polygon in pixels, class
name, difficulty) and writes one DOTA labelTxt per image. What happened to every object is
counted in a :class:`ConversionReport`: objects in, objects out, objects skipped per reason
(with the first few ``file[:line]`` examples) and notes on objects that were changed on the way
(a polygon replaced by its minimum-area rectangle, coordinates clipped to the image).
"""
from __future__ import annotations

import glob
import os
import os.path as osp
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable, NamedTuple

import numpy as np
import yaml
from PIL import Image

from ..dota_txt import format_dota_line
from ..file_types import IMG_EXTS

__all__ = ['DOTAObject', 'ConversionReport', 'dota_class_name', 'write_dota_txt', 'convert_folder_to_dota',
           'min_area_rect_poly', 'read_image_size', 'find_image', 'IMG_EXTS', 'load_names']


class DOTAObject(NamedTuple):
    """One object: ``poly`` (8,) ``x1 y1 ... x4 y4`` pixels, class name, DOTA difficulty (0/1)."""
    poly: tuple
    name: str
    difficulty: int = 0


@dataclass
class ConversionReport:
    """Counts of one conversion run (printable).

    Attributes:
        files_in / files_out: source files read / label files written.
        objects_in: objects found in the sources (skipped ones included).
        objects_out: objects written.
        skipped (Counter): objects (or whole files, reason prefixed ``file:``) dropped, per reason.
        notes (Counter): objects kept but changed, per kind (``min_area_rect``, ``clipped``, ...).
        examples (dict): reason -> first ``max_examples`` ``'file[:line]: detail'`` strings.
    """
    src_format: str = ''
    dst_format: str = ''
    files_in: int = 0
    files_out: int = 0
    objects_in: int = 0
    objects_out: int = 0
    skipped: Counter = field(default_factory=Counter)
    notes: Counter = field(default_factory=Counter)
    examples: dict = field(default_factory=dict)
    classes: Counter = field(default_factory=Counter)
    max_examples: int = 5

    def skip(self, reason: str, where: str, detail: str = '') -> None:
        self.skipped[reason] += 1
        self._example(reason, where, detail)

    def note(self, kind: str, where: str, detail: str = '') -> None:
        self.notes[kind] += 1
        self._example(kind, where, detail)

    def _example(self, key: str, where: str, detail: str) -> None:
        ex = self.examples.setdefault(key, [])
        if len(ex) < self.max_examples:
            ex.append(f'{where}: {detail}' if detail else where)

    @property
    def objects_skipped(self) -> int:
        return sum(v for k, v in self.skipped.items() if not k.startswith('file:'))

    def __str__(self) -> str:
        lines = [f'{self.src_format} -> {self.dst_format}: {self.files_in} files in, {self.files_out} label files '
                 f'out; objects: {self.objects_in} in, {self.objects_out} out, {self.objects_skipped} skipped']
        for reason, n in sorted(self.skipped.items()):
            lines.append(f'  skipped {n:>6}  {reason}')
            lines += [f'      e.g. {e}' for e in self.examples.get(reason, [])]
        for kind, n in sorted(self.notes.items()):
            lines.append(f'  changed {n:>6}  {kind}')
            lines += [f'      e.g. {e}' for e in self.examples.get(kind, [])]
        if self.classes:
            lines.append('  classes written: ' + ', '.join(f'{c} {n}' for c, n in sorted(self.classes.items())))
        return '\n'.join(lines)


def dota_class_name(name: str, report: ConversionReport, where: str) -> str | None:
    """``name`` as a DOTA class field: ``None`` (skipped as ``no class name``) when empty, inner
    whitespace replaced by ``-`` (noted) as DOTA fields are whitespace separated."""
    if not name:
        report.skip('no class name', where)
        return None
    if any(ch.isspace() for ch in name):
        report.note('class name with spaces -> "-"', where, name)
        name = '-'.join(name.split())
    return name


def write_dota_txt(path: str, objects: Iterable[DOTAObject], report: ConversionReport | None = None) -> None:
    """Write one DOTA labelTxt (no header lines) and count the objects in ``report``."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    objects = list(objects)
    with open(path, 'w', encoding='utf-8') as f:
        for o in objects:
            f.write(format_dota_line(o.poly, o.name, o.difficulty) + '\n')
    if report is not None:
        report.files_out += 1
        report.objects_out += len(objects)
        report.classes.update(o.name for o in objects)


def convert_folder_to_dota(src_dir: str, out_dir: str, ext: str, report: ConversionReport,
                           read: Callable[[str, ConversionReport], list]) -> ConversionReport:
    """Write ``out_dir/<stem>.txt`` (DOTA labelTxt) for every ``src_dir/*<ext>`` (sorted), its objects
    from ``read(path, report)``; ``report`` counts files and objects and is returned.

    Raises:
        FileNotFoundError: no ``*<ext>`` file in ``src_dir``.
    """
    files = sorted(glob.glob(osp.join(src_dir, '*' + ext)))
    if not files:
        raise FileNotFoundError(f'no *{ext} files in {src_dir!r}')
    for path in files:
        report.files_in += 1
        objs = read(path, report)
        write_dota_txt(osp.join(out_dir, osp.splitext(osp.basename(path))[0] + '.txt'), objs, report)
    return report


def _convex_hull(p: np.ndarray) -> np.ndarray:
    """Andrew's monotone chain, float64; ``(n, 2)`` -> ``(h, 2)`` counter-clockwise in math axes."""
    p = np.unique(p, axis=0)
    if len(p) <= 2:
        return p

    def half(points):
        out = []
        for q in points:
            while len(out) >= 2:
                a, b = out[-1] - out[-2], q - out[-2]
                if a[0] * b[1] - a[1] * b[0] > 0:
                    break
                out.pop()
            out.append(q)
        return out

    lower, upper = half(p), half(p[::-1])
    return np.array(lower[:-1] + upper[:-1])


def min_area_rect_poly(pts) -> np.ndarray:
    """Minimum-area enclosing rectangle of an ``(n, 2)`` point set as an (8,) polygon, float64.

    Exact (no float32 ``cv2.minAreaRect``): one side of the optimal rectangle lies on a convex
    hull edge, so every hull edge direction is tried at once.
    """
    hull = _convex_hull(np.asarray(pts, np.float64).reshape(-1, 2))
    if len(hull) < 2:
        return np.repeat(hull[:1], 4, axis=0).reshape(-1)
    d = np.roll(hull, -1, axis=0) - hull
    n = np.linalg.norm(d, axis=1)
    u = d[n > 0] / n[n > 0, None]
    v = np.stack([-u[:, 1], u[:, 0]], 1)
    pu, pv = u @ hull.T, v @ hull.T  # (E, h)
    area = (pu.max(1) - pu.min(1)) * (pv.max(1) - pv.min(1))
    k = int(np.argmin(area))
    u0, v0 = u[k], v[k]
    a0, a1, b0, b1 = pu[k].min(), pu[k].max(), pv[k].min(), pv[k].max()
    corners = [a0 * u0 + b0 * v0, a1 * u0 + b0 * v0, a1 * u0 + b1 * v0, a0 * u0 + b1 * v0]
    return np.concatenate(corners)


def read_image_size(path: str) -> tuple[int, int]:
    """``(width, height)`` of an image, read from its header only (Pillow, a matplotlib dependency)."""
    with Image.open(path) as im:
        return int(im.width), int(im.height)


def find_image(img_dir: str, stem: str) -> str | None:
    """The image ``img_dir/stem.<ext>`` for the first extension of :data:`IMG_EXTS` that exists."""
    for ext in IMG_EXTS:
        for e in (ext, ext.upper()):
            p = osp.join(img_dir, stem + e)
            if osp.isfile(p):
                return p
    return None


def load_names(spec) -> list[str] | None:
    """Class names from a list, a comma-separated string, a ``.txt`` (one per line) or a YOLO
    ``data.yaml`` (``names:`` list or ``{index: name}`` dict). ``None`` -> ``None``."""
    if spec is None:
        return None
    if isinstance(spec, (list, tuple)):
        return [str(s) for s in spec]
    spec = str(spec)
    if osp.isfile(spec):
        if spec.endswith(('.yaml', '.yml')):
            with open(spec, encoding='utf-8') as f:
                names = (yaml.safe_load(f) or {}).get('names')
            if isinstance(names, dict):
                return [str(names[k]) for k in sorted(names, key=int)]
            if isinstance(names, list):
                return [str(n) for n in names]
            raise ValueError(f'{spec}: no `names:` list or dict')
        with open(spec, encoding='utf-8') as f:
            return [ln.strip() for ln in f if ln.strip()]
    return [s.strip() for s in spec.split(',') if s.strip()]
