"""Annotation converters: roLabelImg xml, labelme json, YOLO-OBB txt -> DOTA, and DOTA -> YOLO-OBB.

Each importer round-trips a synthetic annotation set: DOTA objects are generated here, written in
the foreign format by code in this file that follows the format's spec (not the converter's
code), converted back, and compared with the originals (polygons as point sets up to cyclic
rotation / orientation, 1e-3 px; class names; difficulty where the format has one). CPU, < 2 s.
"""
import json
import math
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from rotated_ld.datasets.converters import (
    convert_dota_to_yolo_obb,
    convert_labelme,
    convert_rolabelimg,
    convert_yolo_obb_to_dota,
    min_area_rect_poly,
)
from rotated_ld.datasets.dota_txt import parse_dota_txt

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools' / 'dataset_converters'))

CLASSES = ('plane', 'ship', 'small-vehicle', 'storage-tank')
TOL = 1e-3


def _rect(cx, cy, w, h, t):
    c, s = math.cos(t), math.sin(t)
    return np.array([[cx + c * dx - s * dy, cy + s * dx + c * dy]
                     for dx, dy in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))])


def make_set(root: Path, n_images=3, seed=0, axis_aligned=2):
    """Images (blank PNGs of random size) + DOTA labelTxt; returns {stem: (W, H, [(pts (4,2), cls, diff)])}."""
    rng = np.random.default_rng(seed)
    (root / 'images').mkdir(parents=True)
    (root / 'labelTxt').mkdir(parents=True)
    sets = {}
    for i in range(n_images):
        W, H = int(rng.integers(300, 700)), int(rng.integers(200, 600))
        stem = f'img{i:02d}'
        cv2.imwrite(str(root / 'images' / f'{stem}.png'), np.zeros((H, W, 3), np.uint8))
        objs = []
        for k in range(int(rng.integers(3, 7))):
            w, h = rng.uniform(8, 60), rng.uniform(5, 40)
            t = 0.0 if k < axis_aligned else rng.uniform(-math.pi, math.pi)
            cx, cy = rng.uniform(70, W - 70), rng.uniform(70, H - 70)
            objs.append((_rect(cx, cy, w, h, t), str(rng.choice(CLASSES)), int(rng.random() < 0.3)))
        sets[stem] = (W, H, objs)
        (root / 'labelTxt' / f'{stem}.txt').write_text(''.join(
            ' '.join(f'{v:.6f}' for v in p.reshape(-1)) + f' {c} {d}\n' for p, c, d in objs))
    return sets


def same_polygon(p, q, tol=TOL) -> bool:
    """Same 4 vertices up to cyclic rotation and orientation."""
    p, q = np.asarray(p, float).reshape(4, 2), np.asarray(q, float).reshape(4, 2)
    for cand in (q, q[::-1]):
        for k in range(4):
            if np.abs(np.roll(cand, k, axis=0) - p).max() <= tol:
                return True
    return False


def check_roundtrip(sets, out_dir: Path, with_difficulty=True):
    for stem, (_, _, objs) in sets.items():
        ann = parse_dota_txt(str(out_dir / f'{stem}.txt'))
        assert len(ann.labels) == len(objs), stem
        for (pts, cls, diff), poly, name, d in zip(objs, ann.polys, ann.labels, ann.difficulties):
            assert same_polygon(pts, poly), (stem, pts, poly)
            assert name == cls
            if with_difficulty:
                assert d == diff


# ---------------------------------------------------------------- roLabelImg
def _rolabelimg_xml(stem, W, H, objs, extra=''):
    """roLabelImg's writer layout: robndbox cx cy w h angle (radians, direction % pi); bndbox for axis-aligned."""
    parts = [f'<annotation verified="no"><folder>images</folder><filename>{stem}</filename>'
             f'<size><width>{W}</width><height>{H}</height><depth>3</depth></size><segmented>0</segmented>']
    for pts, cls, diff in objs:
        p0, p1, p2 = pts[0], pts[1], pts[2]
        axis = abs(p1[1] - p0[1]) < 1e-9 and abs(p2[0] - p1[0]) < 1e-9
        if axis:  # labelImg-style horizontal box
            x1, y1 = (float(v) for v in pts.min(0))
            x2, y2 = (float(v) for v in pts.max(0))
            parts.append(f'<object><type>bndbox</type><name>{cls}</name><pose>Unspecified</pose>'
                         f'<truncated>0</truncated><difficult>{diff}</difficult><bndbox><xmin>{x1!r}</xmin>'
                         f'<ymin>{y1!r}</ymin><xmax>{x2!r}</xmax><ymax>{y2!r}</ymax></bndbox></object>')
            continue
        cx, cy = (float(v) for v in pts.mean(0))
        w = float(np.hypot(*(p1 - p0)))
        h = float(np.hypot(*(p2 - p1)))
        angle = math.atan2(float(p1[1] - p0[1]), float(p1[0] - p0[0])) % math.pi  # box x axis, clockwise
        parts.append(f'<object><type>robndbox</type><name>{cls}</name><pose>Unspecified</pose>'
                     f'<truncated>0</truncated><difficult>{diff}</difficult><robndbox><cx>{cx!r}</cx>'
                     f'<cy>{cy!r}</cy><w>{w!r}</w><h>{h!r}</h><angle>{angle!r}</angle></robndbox></object>')
    parts.append(extra + '</annotation>')
    return '\n'.join(parts)


def test_rolabelimg_roundtrip(tmp_path):
    sets = make_set(tmp_path / 'd')
    xml_dir = tmp_path / 'xml'
    xml_dir.mkdir()
    for stem, (W, H, objs) in sets.items():
        (xml_dir / f'{stem}.xml').write_text(_rolabelimg_xml(stem, W, H, objs))
    report = convert_rolabelimg(str(xml_dir), str(tmp_path / 'out'))
    check_roundtrip(sets, tmp_path / 'out')
    n = sum(len(o) for _, _, o in sets.values())
    assert (report.files_in, report.files_out, report.objects_in, report.objects_out) == (3, 3, n, n)
    assert report.notes['bndbox (horizontal box)'] == 6 and not report.skipped


def test_rolabelimg_angle_direction(tmp_path):
    """angle = +pi/2 turns the w side from +x to +y (clockwise on screen), as roLabelImg's reader."""
    from rotated_ld.datasets.converters import robndbox_to_poly

    poly = np.array(robndbox_to_poly(50, 50, 20, 10, math.pi / 2)).reshape(4, 2)
    assert np.allclose(poly, [[55, 40], [55, 60], [45, 60], [45, 40]])


def test_rolabelimg_problems_counted(tmp_path):
    xml_dir = tmp_path / 'xml'
    xml_dir.mkdir()
    bad_objs = ('<object><type>robndbox</type><name>car</name><robndbox><cx>1</cx><cy>2</cy><w>0</w>'
                '<h>3</h><angle>0</angle></robndbox></object>'
                '<object><type>robndbox</type><name>car</name><robndbox><cx>x</cx><cy>2</cy><w>4</w>'
                '<h>3</h><angle>0</angle></robndbox></object>'
                '<object><type>robndbox</type><name></name><robndbox><cx>5</cx><cy>2</cy><w>4</w>'
                '<h>3</h><angle>0</angle></robndbox></object>')
    (xml_dir / 'a.xml').write_text(_rolabelimg_xml('a', 100, 100, [], extra=bad_objs))
    (xml_dir / 'b.xml').write_text('<annotation><object>')
    report = convert_rolabelimg(str(xml_dir), str(tmp_path / 'out'))
    assert report.objects_in == 3 and report.objects_out == 0
    assert report.skipped == {'non-positive w/h': 1, 'non-numeric field': 1, 'no class name': 1,
                              'file: xml parse error': 1}
    assert 'a.xml: object 1' in str(report)


# ---------------------------------------------------------------- labelme
def test_labelme_roundtrip(tmp_path):
    sets = make_set(tmp_path / 'd', seed=1)
    js = tmp_path / 'json'
    js.mkdir()
    for stem, (W, H, objs) in sets.items():
        shapes = []
        for k, (pts, cls, diff) in enumerate(objs):
            flags = {'difficult': bool(diff)}
            if k == 0:  # axis-aligned: labelme rectangle = two opposite corners
                shapes.append(dict(label=cls, points=[pts.min(0).tolist(), pts.max(0).tolist()],
                                   shape_type='rectangle', flags=flags, group_id=None))
            elif k == 2:  # 8-point polygon (corners + edge midpoints): min-area rectangle = the rectangle
                mids = (pts + np.roll(pts, -1, 0)) / 2
                ring = np.stack([pts, mids], 1).reshape(-1, 2)
                shapes.append(dict(label=cls, points=ring.tolist(), shape_type='polygon', flags=flags))
            else:
                shapes.append(dict(label=cls, points=pts.tolist(), shape_type='polygon', flags=flags))
        shapes.append(dict(label='car', points=[[10, 10], [20, 10]], shape_type='circle', flags={}))
        shapes.append(dict(label='car', points=[[10, 10], [20, 10]], shape_type='polygon', flags={}))
        (js / f'{stem}.json').write_text(json.dumps(dict(
            version='5.4.1', flags={}, shapes=shapes, imagePath=f'../images/{stem}.png', imageData=None,
            imageHeight=H, imageWidth=W)))
    report = convert_labelme(str(js), str(tmp_path / 'out'))
    check_roundtrip(sets, tmp_path / 'out')
    assert report.notes['min_area_rect'] == 3
    assert report.skipped == {'shape_type circle': 3, 'polygon with < 3 points': 3}
    n = sum(len(o) for _, _, o in sets.values())
    assert report.objects_in == n + 6 and report.objects_out == n


def test_min_area_rect_vs_opencv():
    """Encloses every point and is no larger than cv2.minAreaRect's (float32) rectangle."""
    import shapely

    rng = np.random.default_rng(3)
    for _ in range(20):
        pts = rng.uniform(0, 100, (int(rng.integers(3, 12)), 2))
        ours = min_area_rect_poly(pts).reshape(4, 2)
        ref = cv2.boxPoints(cv2.minAreaRect(pts.astype(np.float32)))
        rect = shapely.Polygon(ours)
        assert rect.buffer(1e-6).contains(shapely.MultiPoint(pts))
        assert rect.area <= shapely.Polygon(ref).area + 1e-2
    sq = np.array([[0, 0], [4, 0], [4, 2], [0, 2], [2, 1]], float)  # interior point ignored
    assert same_polygon(min_area_rect_poly(sq), sq[:4])


# ---------------------------------------------------------------- YOLO-OBB
def _write_yolo(sets, yolo_dir: Path, names):
    """Ultralytics OBB spec: 'class_index x1 y1 x2 y2 x3 y3 x4 y4', x / width, y / height."""
    yolo_dir.mkdir()
    for stem, (W, H, objs) in sets.items():
        rows = []
        for pts, cls, _ in objs:
            norm = pts / np.array([W, H])
            rows.append(f'{names.index(cls)} ' + ' '.join(f'{v:.10f}' for v in norm.reshape(-1)))
        (yolo_dir / f'{stem}.txt').write_text('\n'.join(rows) + '\n')


def test_yolo_obb_to_dota_roundtrip(tmp_path):
    sets = make_set(tmp_path / 'd', seed=2)
    names = list(CLASSES)
    _write_yolo(sets, tmp_path / 'yolo', names)
    report = convert_yolo_obb_to_dota(str(tmp_path / 'yolo'), str(tmp_path / 'out'), names,
                                      img_dir=str(tmp_path / 'd' / 'images'))
    check_roundtrip(sets, tmp_path / 'out', with_difficulty=False)
    n = sum(len(o) for _, _, o in sets.values())
    assert (report.objects_in, report.objects_out, sum(report.skipped.values())) == (n, n, 0)


def test_yolo_obb_img_size_and_problems(tmp_path):
    yolo = tmp_path / 'yolo'
    yolo.mkdir()
    (yolo / 'a.txt').write_text('0 0.1 0.1 0.2 0.1 0.2 0.2 0.1 0.2\n'
                                '1 0.1 0.1 0.2 0.1 0.2 0.2 0.1\n'       # 8 fields
                                '7 0.1 0.1 0.2 0.1 0.2 0.2 0.1 0.2\n'   # class index out of range
                                '0 0.1 0.1 0.2 0.1 nan 0.2 0.1 0.2\n')
    report = convert_yolo_obb_to_dota(str(yolo), str(tmp_path / 'out'), ['storage tank', 'ship'],
                                      img_size=(1000, 500))
    ann = parse_dota_txt(str(tmp_path / 'out' / 'a.txt'))
    assert ann.labels == ['storage-tank']
    assert np.allclose(ann.polys[0], [100, 50, 200, 50, 200, 100, 100, 100])
    assert report.skipped == {'field count != 9': 1, 'class index out of range': 1, 'non-numeric field': 1}
    assert f'{yolo / "a.txt"}:2' in str(report)
    with pytest.raises(FileNotFoundError):
        convert_yolo_obb_to_dota(str(tmp_path / 'nothing'), str(tmp_path / 'o2'))


def test_dota_to_yolo_obb(tmp_path):
    sets = make_set(tmp_path / 'd', seed=4)
    lab = tmp_path / 'd' / 'labelTxt'
    # header lines, a malformed line, an unknown-class line and an out-of-image object
    first = sorted(sets)[0]
    W, H, _ = sets[first]
    txt = lab / f'{first}.txt'
    txt.write_text('imagesource:GoogleEarth\ngsd:0.5\n' + txt.read_text()
                   + '1 2 3 4 plane 0\n'
                   + f'{W - 5} 10 {W + 15} 10 {W + 15} 30 {W - 5} 30 plane 0\n')
    names = list(CLASSES)
    report = convert_dota_to_yolo_obb(str(lab), str(tmp_path / 'yolo'), names, img_dir=str(tmp_path / 'd' / 'images'))
    assert report.skipped == {'field_count': 1} and report.notes['clipped to the image'] == 1
    assert (tmp_path / 'yolo' / 'classes.txt').read_text().split() == names
    for stem, (W, H, objs) in sets.items():  # parse per spec and denormalise
        rows = [r.split() for r in (tmp_path / 'yolo' / f'{stem}.txt').read_text().splitlines()]
        if stem == first:
            clipped = np.array(rows[-1][1:], float)
            assert clipped.max() <= 1.0 and np.isclose(clipped[2], 1.0)
            rows = rows[:-1]
        assert len(rows) == len(objs)
        for r, (pts, cls, _) in zip(rows, objs):
            assert len(r) == 9 and names[int(r[0])] == cls
            xy = np.array(r[1:], float).reshape(4, 2) * [W, H]
            assert same_polygon(pts, xy)
    # and back: DOTA -> YOLO -> DOTA keeps the polygons
    back = convert_yolo_obb_to_dota(str(tmp_path / 'yolo'), str(tmp_path / 'back'), names,
                                    img_dir=str(tmp_path / 'd' / 'images'))
    assert back.objects_out == report.objects_out


def test_dota_to_yolo_default_names_sorted(tmp_path):
    make_set(tmp_path / 'd', seed=5)
    convert_dota_to_yolo_obb(str(tmp_path / 'd' / 'labelTxt'), str(tmp_path / 'y'), img_size=(800, 800))
    names = (tmp_path / 'y' / 'classes.txt').read_text().split()
    assert names == sorted(names) and set(names) <= set(CLASSES)


# ---------------------------------------------------------------- CLIs
def test_clis(tmp_path, capsys):
    import dota2yolo_obb
    import labelme2dota
    import rolabelimg2dota
    import yolo_obb2dota

    sets = make_set(tmp_path / 'd', seed=6)
    img = str(tmp_path / 'd' / 'images')
    assert dota2yolo_obb.main([str(tmp_path / 'd' / 'labelTxt'), str(tmp_path / 'y'), '--img-dir', img,
                               '--classes', 'dota1.0']) == 0
    assert 'DOTA -> YOLO-OBB txt' in capsys.readouterr().out
    assert yolo_obb2dota.main([str(tmp_path / 'y'), str(tmp_path / 'o'), '--img-dir', img,
                               '--names', str(tmp_path / 'y' / 'data.yaml')]) == 0
    assert 'objects: ' in capsys.readouterr().out
    check_roundtrip(sets, tmp_path / 'o', with_difficulty=False)
    assert yolo_obb2dota.main([str(tmp_path / 'y'), str(tmp_path / 'o')]) == 2
    assert rolabelimg2dota.main([str(tmp_path / 'none'), str(tmp_path / 'o')]) == 2
    assert labelme2dota.main([str(tmp_path / 'none'), str(tmp_path / 'o')]) == 2
    assert 'no *.json files' in capsys.readouterr().err
