"""YOLO-OBB (Ultralytics) txt <-> DOTA labelTxt.

Ultralytics OBB label files hold one object per line::

    class_index x1 y1 x2 y2 x3 y3 x4 y4        # corners normalised to 0..1 by image width / height

Class names come from the dataset YAML (``names: {0: plane, ...}`` or a list). Converting to
pixels needs each image's size: read from the image header (``img_dir/<stem>.<ext>``) or given
once for all images (``img_size=(w, h)``). Names with spaces (Ultralytics' ``storage tank``)
become ``storage-tank`` in DOTA files (DOTA fields are whitespace separated).

DOTA -> YOLO-OBB writes normalised corners with 8 significant digits (< 1e-4 px on 10k-px
images); coordinates outside the image are clipped to 0..1 (Ultralytics rejects a label file
with values outside 0..1) and counted as ``clipped``; the difficulty field has no YOLO
equivalent and is dropped (``skip_difficult=True`` drops difficult objects instead).
"""
from __future__ import annotations

import glob
import math
import os
import os.path as osp
from collections import Counter
from typing import Sequence

import numpy as np

from ...structures.bbox import poly_area
from ..dota_txt import DOTAFormatError, parse_dota_txt
from .common import ConversionReport, DOTAObject, find_image, read_image_size, write_dota_txt

__all__ = ['read_yolo_obb_txt', 'convert_yolo_obb_to_dota', 'convert_dota_to_yolo_obb', 'dota_class_names']


def _size_for(stem: str, img_dir: str | None, img_size, report: ConversionReport, where: str):
    if img_dir:
        p = find_image(img_dir, stem)
        if p is not None:
            try:
                return read_image_size(p)
            except OSError as e:
                report.skip('file: unreadable image', where, str(e))
                return None
    if img_size is not None:
        return int(img_size[0]), int(img_size[1])
    report.skip('file: no image size', where, f'no image {stem}.* in {img_dir!r} and no img_size given')
    return None


def read_yolo_obb_txt(path: str, names: Sequence[str] | None, img_wh: tuple[int, int],
                      report: ConversionReport, min_area: float = 1e-3) -> list[DOTAObject]:
    """Objects of one YOLO-OBB label file in pixels of an image ``img_wh = (width, height)``."""
    W, H = img_wh
    objs = []
    with open(path, encoding='utf-8') as f:
        lines = f.read().splitlines()
    for lineno, line in enumerate(lines, 1):
        items = line.split()
        if not items:
            continue
        report.objects_in += 1
        where = f'{path}:{lineno}'
        if len(items) != 9:
            report.skip('field count != 9', where, line.strip())
            continue
        try:
            cls = int(items[0])
            vals = [float(v) for v in items[1:]]
        except ValueError:
            report.skip('non-numeric field', where, line.strip())
            continue
        if not all(math.isfinite(v) for v in vals):
            report.skip('non-numeric field', where, line.strip())
            continue
        if names is None:
            name = str(cls)
        elif 0 <= cls < len(names):
            name = '-'.join(str(names[cls]).split())
        else:
            report.skip('class index out of range', where, f'{cls} not in 0..{len(names) - 1}')
            continue
        if min(vals) < 0 or max(vals) > 1:
            report.note('coordinates outside 0..1 (kept)', where)
        poly = tuple(v * (W if i % 2 == 0 else H) for i, v in enumerate(vals))
        if poly_area(poly) < min_area:
            report.skip('degenerate', where)
            continue
        objs.append(DOTAObject(poly, name, 0))
    return objs


def convert_yolo_obb_to_dota(src_dir: str, out_dir: str, names: Sequence[str] | None = None,
                             img_dir: str | None = None, img_size: tuple[int, int] | None = None,
                             min_area: float = 1e-3) -> ConversionReport:
    """Convert every ``*.txt`` of ``src_dir`` (YOLO-OBB) into ``out_dir/<stem>.txt`` (DOTA).

    Args:
        names: class names by index (``None``: the index itself is the class name).
        img_dir: folder of the images (their header gives each file's size).
        img_size: ``(width, height)`` for images not found in ``img_dir`` (or all, without it).
    """
    report = ConversionReport('YOLO-OBB txt', 'DOTA')
    files = sorted(f for f in glob.glob(osp.join(src_dir, '*.txt')) if osp.basename(f) != 'classes.txt')
    if not files:
        raise FileNotFoundError(f'no *.txt files in {src_dir!r}')
    if names is None:
        report.note('no class names given: class index used as name', src_dir)
    for path in files:
        report.files_in += 1
        stem = osp.splitext(osp.basename(path))[0]
        wh = _size_for(stem, img_dir, img_size, report, path)
        if wh is None:
            with open(path, encoding='utf-8') as f:
                n = sum(1 for ln in f if ln.strip())
            report.objects_in += n
            report.skipped['objects of files without image size'] += n
            continue
        objs = read_yolo_obb_txt(path, names, wh, report, min_area)
        write_dota_txt(osp.join(out_dir, stem + '.txt'), objs, report)
    return report


def dota_class_names(label_dir: str) -> list[str]:
    """Sorted class names found in the DOTA labelTxt files of ``label_dir`` (for a class list)."""
    names: set = set()
    for path in sorted(glob.glob(osp.join(label_dir, '*.txt'))):
        with open(path, encoding='utf-8') as f:
            for ln in f:
                t = ln.split()
                if len(t) in (9, 10):
                    names.add(t[8])
    return sorted(names)


def _fmt(v: float) -> str:
    return format(float(v), '.8g')


def convert_dota_to_yolo_obb(src_dir: str, out_dir: str, names: Sequence[str] | None = None,
                             img_dir: str | None = None, img_size: tuple[int, int] | None = None,
                             clip: bool = True, skip_difficult: bool = False) -> ConversionReport:
    """Convert DOTA labelTxt files of ``src_dir`` into YOLO-OBB ``out_dir/<stem>.txt``.

    ``names`` fixes the class indices (default: the sorted class names found in ``src_dir``);
    they are also written to ``out_dir/classes.txt`` and ``out_dir/data.yaml`` (``names:``).
    Objects of classes outside ``names`` and malformed lines are skipped and counted.
    """
    report = ConversionReport('DOTA', 'YOLO-OBB txt')
    files = sorted(glob.glob(osp.join(src_dir, '*.txt')))
    if not files:
        raise FileNotFoundError(f'no *.txt files in {src_dir!r}')
    names = list(names) if names is not None else dota_class_names(src_dir)
    c2i = {n: i for i, n in enumerate(names)}
    os.makedirs(out_dir, exist_ok=True)
    for path in files:
        report.files_in += 1
        stem = osp.splitext(osp.basename(path))[0]
        wh = _size_for(stem, img_dir, img_size, report, path)
        if wh is None:
            continue
        W, H = wh
        with open(path, encoding='utf-8') as f:
            text = f.read()
        out_lines, kept = [], Counter()
        for lineno, line in enumerate(text.splitlines(), 1):
            t = line.split()
            if len(t) < 9 and (not t or ':' in line):  # blank or imagesource:/gsd: header
                continue
            report.objects_in += 1
            where = f'{path}:{lineno}'
            try:  # the dataset's own rules for one line (field count, numbers, area)
                ann = parse_dota_txt(path, text=line, strict=True)
            except DOTAFormatError as e:
                report.skip(e.kind, where, line.strip())
                continue
            poly, name, diff = ann.polys[0], ann.labels[0], int(ann.difficulties[0])
            if name not in c2i:
                report.skip('class not in names', where, name)
                continue
            if skip_difficult and diff > 0:
                report.skip('difficult (skip_difficult)', where)
                continue
            norm = poly / np.array([W, H] * 4, np.float64)
            if clip and (norm.min() < 0 or norm.max() > 1):
                norm = np.clip(norm, 0.0, 1.0)
                report.note('clipped to the image', where)
            out_lines.append(f'{c2i[name]} ' + ' '.join(_fmt(v) for v in norm))
            kept[name] += 1
        with open(osp.join(out_dir, stem + '.txt'), 'w', encoding='utf-8') as f:
            f.write(''.join(ln + '\n' for ln in out_lines))
        report.files_out += 1
        report.objects_out += len(out_lines)
        report.classes.update(kept)
    with open(osp.join(out_dir, 'classes.txt'), 'w', encoding='utf-8') as f:
        f.write(''.join(n + '\n' for n in names))
    with open(osp.join(out_dir, 'data.yaml'), 'w', encoding='utf-8') as f:
        f.write('names:\n' + ''.join(f'  {i}: {n}\n' for i, n in enumerate(names)))
    return report
