"""roLabelImg XML (``robndbox`` and plain ``bndbox``) -> DOTA labelTxt.

roLabelImg (github.com/cgvict/roLabelImg, ``libs/pascal_voc_io.py``) writes one XML per image
with Pascal-VOC ``<object>`` entries of two kinds::

    <object><type>robndbox</type><name>car</name><difficult>0</difficult>
      <robndbox><cx>..</cx><cy>..</cy><w>..</w><h>..</h><angle>..</angle></robndbox></object>
    <object><type>bndbox</type><name>car</name>
      <bndbox><xmin>..</xmin><ymin>..</ymin><xmax>..</xmax><ymax>..</ymax></bndbox></object>

Angle convention (checked against roLabelImg's own reader ``addRotatedShape``): ``angle`` is in
RADIANS, in ``[0, pi)`` as saved (``direction % pi``); the corners are ``(cx, cy) +
R(angle) (±w/2, ±h/2)`` with ``R = [[cos, -sin], [sin, cos]]`` in image axes (y down), i.e. a
positive angle turns +x toward +y, clockwise on screen -- the same direction as our rbox
``t``. So ``(cx, cy, w, h, angle)`` is our rbox as is. Plain labelImg / Pascal-VOC XML (no
``<type>``) is read through its ``bndbox``.
"""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from ...structures.bbox import poly_area
from .common import ConversionReport, DOTAObject, convert_folder_to_dota, dota_class_name

__all__ = ['robndbox_to_poly', 'read_rolabelimg_xml', 'convert_rolabelimg']


def robndbox_to_poly(cx: float, cy: float, w: float, h: float, angle: float) -> tuple:
    """roLabelImg ``robndbox`` -> (8,) polygon, corners in roLabelImg's order (top-left first at angle 0)."""
    c, s = math.cos(angle), math.sin(angle)
    out = []
    for dx, dy in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)):
        out += [cx + c * dx - s * dy, cy + s * dx + c * dy]
    return tuple(out)


def _num(node, tag: str) -> float:
    el = node.find(tag)
    if el is None or el.text is None:
        raise KeyError(tag)
    v = float(el.text.strip())
    if not math.isfinite(v):
        raise ValueError(tag)
    return v


def read_rolabelimg_xml(path: str, report: ConversionReport, min_area: float = 1e-3) -> list[DOTAObject]:
    """Objects of one roLabelImg / labelImg XML; problems are counted in ``report`` (never raised)."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        report.skip('file: xml parse error', path, str(e))
        return []
    objs = []
    for i, obj in enumerate(root.iter('object'), 1):
        report.objects_in += 1
        where = f'{path}: object {i}'
        name_el = obj.find('name')
        name = dota_class_name((name_el.text or '').strip() if name_el is not None else '', report, where)
        if name is None:
            continue
        diff_el = obj.find('difficult')
        try:
            difficulty = int(float(diff_el.text)) if diff_el is not None and diff_el.text else 0
        except ValueError:
            difficulty = 0
        typ = (obj.findtext('type') or '').strip()
        rb, bb = obj.find('robndbox'), obj.find('bndbox')
        try:
            if rb is not None and typ != 'bndbox':
                cx, cy, w, h, a = (_num(rb, k) for k in ('cx', 'cy', 'w', 'h', 'angle'))
                if w <= 0 or h <= 0:
                    report.skip('non-positive w/h', where, f'w={w} h={h}')
                    continue
                poly = robndbox_to_poly(cx, cy, w, h, a)
            elif bb is not None:
                x1, y1, x2, y2 = (_num(bb, k) for k in ('xmin', 'ymin', 'xmax', 'ymax'))
                if x2 <= x1 or y2 <= y1:
                    report.skip('non-positive w/h', where, f'bndbox {x1} {y1} {x2} {y2}')
                    continue
                poly = (x1, y1, x2, y1, x2, y2, x1, y2)
                report.note('bndbox (horizontal box)', where)
            else:
                report.skip('no robndbox/bndbox', where, f'type={typ!r}')
                continue
        except KeyError as e:
            report.skip('missing field', where, str(e))
            continue
        except ValueError as e:
            report.skip('non-numeric field', where, str(e))
            continue
        if poly_area(poly) < min_area:
            report.skip('degenerate', where)
            continue
        objs.append(DOTAObject(poly, name, difficulty))
    return objs


def convert_rolabelimg(src_dir: str, out_dir: str, min_area: float = 1e-3) -> ConversionReport:
    """Convert every ``*.xml`` of ``src_dir`` into ``out_dir/<stem>.txt`` (DOTA labelTxt)."""
    return convert_folder_to_dota(src_dir, out_dir, '.xml', ConversionReport('roLabelImg xml', 'DOTA'),
                                  lambda path, report: read_rolabelimg_xml(path, report, min_area))
