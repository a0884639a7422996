"""labelme JSON -> DOTA labelTxt.

labelme writes one JSON per image: ``{"shapes": [{"label", "points": [[x, y], ...],
"shape_type", "flags", ...}], "imagePath", "imageHeight", "imageWidth"}``. Per shape:

* ``polygon`` with 4 points -> the polygon as is;
* ``polygon`` with 3 or more than 4 points -> its minimum-area enclosing rectangle (counted as
  ``min_area_rect`` in the report);
* ``rectangle`` (two opposite corners) -> the axis-aligned box;
* ``rotation`` (labelme forks: 4 points) -> as a 4-point polygon;
* anything else (``circle``, ``line``, ``linestrip``, ``point``, ``mask``) or fewer than 3
  points -> skipped with the reason.

``flags: {"difficult": true}`` gives difficulty 1.
"""
from __future__ import annotations

import json

import numpy as np

from ...structures.bbox import poly_area
from .common import ConversionReport, DOTAObject, convert_folder_to_dota, dota_class_name, min_area_rect_poly

__all__ = ['read_labelme_json', 'convert_labelme']


def read_labelme_json(path: str, report: ConversionReport, min_area: float = 1e-3) -> list[DOTAObject]:
    """Objects of one labelme JSON; problems are counted in ``report`` (never raised)."""
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
        shapes = data['shapes']
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        report.skip('file: json parse error', path, str(e))
        return []
    except (KeyError, TypeError):
        report.skip('file: no "shapes" list', path)
        return []
    objs = []
    for i, sh in enumerate(shapes, 1):
        report.objects_in += 1
        where = f'{path}: shape {i}'
        name = dota_class_name(str(sh.get('label') or '').strip(), report, where)
        if name is None:
            continue
        typ = sh.get('shape_type') or 'polygon'
        try:
            pts = np.asarray(sh.get('points') or [], np.float64).reshape(-1, 2)
        except (ValueError, TypeError):
            report.skip('non-numeric points', where)
            continue
        if not np.isfinite(pts).all():
            report.skip('non-numeric points', where, 'NaN/inf')
            continue
        if typ == 'rectangle':
            if len(pts) != 2:
                report.skip('rectangle without 2 points', where, f'{len(pts)} points')
                continue
            (x1, y1), (x2, y2) = pts.min(0), pts.max(0)
            poly = (x1, y1, x2, y1, x2, y2, x1, y2)
        elif typ in ('polygon', 'rotation'):
            if len(pts) < 3:
                report.skip('polygon with < 3 points', where, f'{len(pts)} points')
                continue
            if len(pts) == 4:
                poly = tuple(pts.reshape(-1).tolist())
            else:
                poly = tuple(min_area_rect_poly(pts).tolist())
                report.note('min_area_rect', where, f'{len(pts)}-point polygon')
        else:
            report.skip(f'shape_type {typ}', where)
            continue
        if poly_area(poly) < min_area:
            report.skip('degenerate', where)
            continue
        flags = sh.get('flags') or {}
        difficulty = int(bool(flags.get('difficult', False))) if isinstance(flags, dict) else 0
        objs.append(DOTAObject(tuple(float(v) for v in poly), name, difficulty))
    return objs


def convert_labelme(src_dir: str, out_dir: str, min_area: float = 1e-3) -> ConversionReport:
    """Convert every ``*.json`` of ``src_dir`` into ``out_dir/<stem>.txt`` (DOTA labelTxt)."""
    return convert_folder_to_dota(src_dir, out_dir, '.json', ConversionReport('labelme json', 'DOTA'),
                                  lambda path, report: read_labelme_json(path, report, min_area))
