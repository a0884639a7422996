"""Fuzz the COCO json and VOC xml readers: every mutation is a clear error naming the file, a
skip counted per reason (objects in = out + dropped), or a valid read. CPU: a few seconds."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from rotated_ld.datasets import CocoDataset, VOCDataset

from ._garbage import random_bytes, real_image, truncate

CLASSES = ('cat', 'dog')
# serialize_data=False: mmengine's serialization runs gc.collect() (0.4 s) per dataset
COMMON = dict(metainfo=dict(classes=CLASSES), test_mode=True, serialize_data=False)

# kind -> expected outcome: 'error', a drop reason of CocoDataset.dropped, or 'ok'
COCO_KINDS = {
    'truncated': 'error', 'non_utf8': 'error', 'empty': 'error', 'random_bytes': 'error', 'top_list': 'error',
    'ann_no_image_id': 'error', 'ann_no_category': 'error', 'img_no_width': 'error', 'img_negative_height': 'error',
    'img_nan_width': 'error', 'bbox_nan': 'error', 'bbox_inf': 'error', 'bbox_3_values': 'error',
    'bbox_words': 'error', 'bbox_missing': 'error', 'bbox_string': 'error', 'area_words': 'error',
    'category_no_name': 'error', 'images_not_objects': 'error', 'duplicate_ann_id': 'error',
    'duplicate_image_id': 'error', 'file_name_not_str': 'error', 'category_id_list': 'error',
    'negative_wh': 'degenerate', 'zero_area': 'degenerate', 'outside_image': 'outside_image',
    'huge_coords': 'outside_image', 'unknown_category': 'other_category', 'orphan_annotation': 'no_image',
    'tiny_image': 'ok', 'huge_image_metadata': 'ok',
}


def _coco(rng) -> dict:
    imgs = [dict(id=i + 1, file_name=f'{i}.jpg', width=int(rng.integers(50, 400)),
                 height=int(rng.integers(50, 400))) for i in range(3)]
    anns, k = [], 0
    for img in imgs:
        for _ in range(int(rng.integers(1, 4))):
            k += 1
            x, y = rng.uniform(0, 20, 2).round(1).tolist()
            anns.append(dict(id=k, image_id=img['id'], category_id=int(rng.integers(1, 3)),
                             bbox=[x, y, 10.0, 12.0], area=120.0, iscrowd=0))
    return dict(images=imgs, annotations=anns, categories=[dict(id=1, name='cat'), dict(id=2, name='dog')])


def _mutate(d: dict, kind: str, rng):
    a = d['annotations'][int(rng.integers(len(d['annotations'])))]
    img = d['images'][int(rng.integers(len(d['images'])))]
    if kind == 'top_list':
        return [d]
    if kind == 'ann_no_image_id':
        del a['image_id']
    elif kind == 'ann_no_category':
        del a['category_id']
    elif kind == 'img_no_width':
        del img['width']
    elif kind == 'img_negative_height':
        img['height'] = -int(rng.integers(1, 100))
    elif kind == 'img_nan_width':
        img['width'] = float('nan')
    elif kind == 'bbox_nan':
        a['bbox'][int(rng.integers(4))] = float('nan')
    elif kind == 'bbox_inf':
        a['bbox'][int(rng.integers(4))] = float(rng.choice([math.inf, -math.inf]))
    elif kind == 'bbox_3_values':
        a['bbox'] = a['bbox'][:3]
    elif kind == 'bbox_words':
        a['bbox'][int(rng.integers(4))] = str(rng.choice(['ten', '', '1,5']))
    elif kind == 'bbox_missing':
        del a['bbox']
    elif kind == 'bbox_string':
        a['bbox'] = '1 2 3 4'
    elif kind == 'area_words':
        a['area'] = 'big'
    elif kind == 'category_no_name':
        del d['categories'][int(rng.integers(2))]['name']
    elif kind == 'images_not_objects':
        d['images'] = [str(i['id']) for i in d['images']]
    elif kind == 'duplicate_ann_id':
        d['annotations'].append(dict(a, id=a['id']))
    elif kind == 'duplicate_image_id':
        d['images'].append(dict(img))
    elif kind == 'file_name_not_str':
        img['file_name'] = int(rng.integers(100))
    elif kind == 'category_id_list':
        a['category_id'] = [a['category_id']]
    elif kind == 'negative_wh':
        a['bbox'][2 + int(rng.integers(2))] = -float(rng.uniform(1, 50))
    elif kind == 'zero_area':
        a['bbox'][2] = 0.0
        a['area'] = 0.0
    elif kind == 'outside_image':
        a['bbox'][0] = 5000.0
    elif kind == 'huge_coords':
        a['bbox'][1] = float(rng.choice([1e9, -1e12, 1e300]))
    elif kind == 'unknown_category':
        a['category_id'] = 999
    elif kind == 'orphan_annotation':
        a['image_id'] = 777
    elif kind == 'tiny_image':
        img.update(width=1, height=1)
        for b in d['annotations']:
            if b['image_id'] == img['id']:
                b['bbox'] = [0.0, 0.0, 1.0, 1.0]
    elif kind == 'huge_image_metadata':
        img.update(width=20000, height=20000)
    return d


def _coco_bytes(kind: str, rng) -> tuple[bytes, int]:
    d = _coco(rng)
    n_ann = len(d['annotations'])
    if kind in ('truncated', 'non_utf8', 'empty', 'random_bytes'):
        text = json.dumps(d).encode()
        data = dict(truncated=truncate(text, rng)[:max(1, len(text) - 2)], empty=b'',
                    non_utf8=text[:20] + b'\xff\xfe' + text[20:], random_bytes=b'{' + random_bytes(rng))[kind]
        return data, n_ann
    return json.dumps(_mutate(d, kind, rng)).encode(), n_ann


@pytest.mark.parametrize('kind', sorted(COCO_KINDS))
def test_coco(kind, tmp_path, fuzz, limit):
    expected = COCO_KINDS[kind]
    for seed in range(8):
        rng = np.random.default_rng([5, seed, len(kind)])
        data, n_ann = _coco_bytes(kind, rng)
        p = tmp_path / f'{kind}_{seed}.json'
        p.write_bytes(data)
        with limit():
            if expected == 'error':
                with pytest.raises((ValueError, KeyError)) as e:
                    CocoDataset(ann_file=str(p), **COMMON)
                fuzz.error('CocoDataset', e.value, p, expect=('expected', 'json', 'missing', 'not categories'))
                continue
            ds = CocoDataset(ann_file=str(p), **COMMON)
        n_out = sum(len(ds.get_data_info(i)['instances']) for i in range(len(ds)))
        assert n_out + sum(ds.dropped.values()) == n_ann  # in = out + dropped
        if expected == 'ok':
            assert not sum(ds.dropped.values())
            fuzz.accepted('CocoDataset')
        else:
            assert ds.dropped[expected] >= 1, dict(ds.dropped)
            fuzz.skip('CocoDataset', sum(ds.dropped.values()))


# ---- VOC -----------------------------------------------------------------------------------

VOC_KINDS = {
    'missing_xml': 'error', 'truncated_xml': 'error', 'non_utf8_xml': 'error', 'empty_xml': 'error',
    'no_name': 'error', 'size_nan': 'error', 'size_negative': 'error', 'size_words': 'error',
    'bndbox_nan': 'error', 'bndbox_inf': 'error', 'bndbox_missing_key': 'error', 'bndbox_words': 'error',
    'difficult_words': 'error', 'no_size_missing_image': 'error', 'no_size_bad_image': 'error',
    'non_utf8_idlist': 'error',
    'unknown_class': 'other_class', 'negative_size': 'degenerate', 'zero_size': 'degenerate',
    'no_size_tiny_image': 'ok', 'huge_size_metadata': 'ok', 'huge_coords': 'ok',
}


def _obj(name, box, diff='0'):
    b = ''.join(f'<{k}>{v}</{k}>' for k, v in zip(('xmin', 'ymin', 'xmax', 'ymax'), box))
    return f'<object><name>{name}</name><difficult>{diff}</difficult><bndbox>{b}</bndbox></object>'


def _voc(root, kind: str, rng) -> int:
    """Write a 2-image VOC2007 set with one mutation; returns the number of objects in the xmls."""
    sub = root / 'VOC2007'
    (sub / 'Annotations').mkdir(parents=True)
    (sub / 'JPEGImages').mkdir()
    (sub / 'ImageSets' / 'Main').mkdir(parents=True)
    ids = ['000001', '000002']
    idlist = '\n'.join(ids).encode() + b'\n'
    if kind == 'non_utf8_idlist':
        idlist = b'000001\n\xff\xfe00\n'
    (sub / 'ImageSets' / 'Main' / 'test.txt').write_bytes(idlist)
    n_obj = 0
    for j, img_id in enumerate(ids):
        objs = []
        for _ in range(int(rng.integers(1, 4))):
            x, y = rng.integers(1, 100, 2).tolist()
            objs.append([str(rng.choice(CLASSES)), [x, y, x + 20, y + 30], '0'])
        size = '<size><width>300</width><height>200</height><depth>3</depth></size>'
        if j == 0:  # the mutated image
            o = objs[0]
            if kind == 'no_name':
                o[0] = ''
            elif kind == 'size_nan':
                size = '<size><width>nan</width><height>200</height></size>'
            elif kind == 'size_negative':
                size = '<size><width>300</width><height>-5</height></size>'
            elif kind == 'size_words':
                size = '<size><width>wide</width></size>'
            elif kind == 'bndbox_nan':
                o[1][int(rng.integers(4))] = 'nan'
            elif kind == 'bndbox_inf':
                o[1][int(rng.integers(4))] = str(rng.choice(['inf', '-inf']))
            elif kind == 'bndbox_words':
                o[1][int(rng.integers(4))] = 'left'
            elif kind == 'difficult_words':
                o[2] = 'maybe'
            elif kind == 'unknown_class':
                o[0] = str(rng.choice(['person', 'Cat', 'cat dog']))
            elif kind == 'negative_size':
                o[1] = [o[1][2], o[1][1], o[1][0], o[1][3]]
            elif kind == 'zero_size':
                o[1][3] = o[1][1]
            elif kind == 'huge_coords':
                o[1][2] = 1e12
            elif kind in ('no_size_missing_image', 'no_size_bad_image', 'no_size_tiny_image'):
                size = ''
            elif kind == 'huge_size_metadata':
                size = '<size><width>20000</width><height>20000</height></size>'
        body = ''.join(_obj(*o) for o in objs)
        if j == 0 and kind == 'bndbox_missing_key':
            body = body.replace('<ymax>', '<ymaxx>', 1).replace('</ymax>', '</ymaxx>', 1)
        xml = f'<annotation><filename>{img_id}.jpg</filename>{size}{body}</annotation>'.encode()
        if j == 0 and kind == 'truncated_xml':
            xml = xml[:int(rng.integers(5, len(xml) - 10))]
        elif j == 0 and kind == 'non_utf8_xml':
            xml = xml.replace(b'</filename>', b'\xff\xfe</filename>')
        elif j == 0 and kind == 'empty_xml':
            xml = b''
        if not (j == 0 and kind == 'missing_xml'):
            (sub / 'Annotations' / f'{img_id}.xml').write_bytes(xml)
        if j == 0 and kind == 'no_size_tiny_image':
            (sub / 'JPEGImages' / f'{img_id}.jpg').write_bytes(real_image(1, 1, '.jpg'))
            objs[0][1] = [1, 1, 2, 2]
        elif j == 0 and kind == 'no_size_bad_image':
            (sub / 'JPEGImages' / f'{img_id}.jpg').write_bytes(random_bytes(rng))
        n_obj += len(objs)
    return n_obj


@pytest.mark.parametrize('kind', sorted(VOC_KINDS))
def test_voc(kind, tmp_path, fuzz, limit):
    expected = VOC_KINDS[kind]
    for seed in range(5):
        rng = np.random.default_rng([6, seed, len(kind)])
        root = tmp_path / f's{seed}'
        n_in = _voc(root, kind, rng)
        kw = dict(data_root=str(root), ann_file='VOC2007/ImageSets/Main/test.txt',
                  data_prefix=dict(sub_data_root='VOC2007/'), **COMMON)
        with limit():
            if expected == 'error':
                with pytest.raises((ValueError, OSError)) as e:
                    VOCDataset(**kw)
                name = 'test.txt' if kind == 'non_utf8_idlist' else '000001.xml'
                fuzz.error('VOCDataset', e.value, name, expect=('expected', 'malformed', 'not', 'no <', 'cannot'))
                continue
            ds = VOCDataset(**kw)
        n_out = sum(len(ds.get_data_info(i)['instances']) for i in range(len(ds)))
        assert n_out + sum(ds.skipped.values()) == n_in  # in = out + skipped
        if expected == 'ok':
            assert not sum(ds.skipped.values())
            fuzz.accepted('VOCDataset')
        else:
            assert ds.skipped[expected] == 1, dict(ds.skipped)
            fuzz.skip('VOCDataset', 1)
