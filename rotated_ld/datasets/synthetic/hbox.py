"""Small synthetic horizontal-box sets in COCO json and Pascal VOC xml layouts.

Images are small crops of the aerial world of :mod:`.aerial` (textured ground, the same class
painters) with near-axis-aligned objects, so the horizontal boxes are tight. Faint objects are
marked ``iscrowd=1`` (COCO) / ``<difficult>1</difficult>`` (VOC): ignored by the metrics.

Layouts written under ``out_dir``::

    coco/train2017/*.jpg  coco/val2017/*.jpg  coco/annotations/instances_{train,val}2017.json
    VOCdevkit/VOC2007/{JPEGImages,Annotations,ImageSets/Main/{train,val,trainval,test}.txt}
"""
from __future__ import annotations

import json
import math
import os
import os.path as osp
from xml.sax.saxutils import escape

import cv2
import numpy as np

from .aerial import _Canvas

HBOX_CLASSES = ('plane', 'ship', 'small-vehicle', 'large-vehicle', 'storage-tank', 'tennis-court',
                'swimming-pool', 'helicopter')


def make_hbox_image(rng: np.random.Generator, width: int, height: int, classes=HBOX_CLASSES,
                    num_objects=(3, 10), scale: float = 0.8):
    """Render one small image. Returns ``(img BGR uint8, [(x1, y1, x2, y2, cls, ignore), ...])``."""
    cv = _Canvas(rng, width, height)
    anns = []
    for _ in range(int(rng.integers(num_objects[0], num_objects[1] + 1))):
        cls = classes[int(rng.integers(len(classes)))]
        for _try in range(12):
            w, h = cv.sample_size(cls)
            w, h = w * scale, h * scale
            t = (0.0 if rng.random() < 0.5 else math.pi / 2) + rng.normal(0, 0.03)
            t += math.pi if rng.random() < 0.5 else 0.0
            cx, cy = rng.uniform(w / 2, width - w / 2), rng.uniform(h / 2, height - h / 2)
            if cv.add(cls, (cx, cy, w, h, t), where='any', vis_min=0.999, faint_p=0.03):
                o = cv.objects[-1]
                pts = o.poly.reshape(4, 2)
                x1, y1 = np.clip(pts.min(0), 0, (width, height))
                x2, y2 = np.clip(pts.max(0), 0, (width, height))
                anns.append((float(x1), float(y1), float(x2), float(y2), cls, bool(o.difficult)))
                break
    return cv.img, anns


def _render_split(rng, n, size_range, classes):
    for i in range(n):
        w, h = (int(v) for v in rng.integers(size_range[0], size_range[1] + 1, 2))
        yield i, w, h, make_hbox_image(rng, w, h, classes)


def write_coco_set(out_dir: str, splits: dict[str, int], size_range=(320, 416), seed: int = 0,
                   classes=HBOX_CLASSES) -> dict[str, str]:
    """Write COCO-layout splits (``{'train2017': 64, 'val2017': 16}``); returns split -> json path."""
    paths = {}
    cats = [dict(id=i + 1, name=c, supercategory='object') for i, c in enumerate(classes)]
    os.makedirs(osp.join(out_dir, 'annotations'), exist_ok=True)
    for k, (split, n) in enumerate(splits.items()):
        rng = np.random.default_rng([seed, 1000 + k])
        os.makedirs(osp.join(out_dir, split), exist_ok=True)
        images, annotations = [], []
        for i, w, h, (img, anns) in _render_split(rng, n, size_range, classes):
            fname = f'{i:06d}.jpg'
            cv2.imwrite(osp.join(out_dir, split, fname), img, [cv2.IMWRITE_JPEG_QUALITY, 95])
            images.append(dict(id=i + 1, file_name=fname, width=w, height=h))
            for x1, y1, x2, y2, cls, ign in anns:
                bw, bh = x2 - x1, y2 - y1
                annotations.append(dict(id=len(annotations) + 1, image_id=i + 1,
                                        category_id=classes.index(cls) + 1,
                                        bbox=[round(x1, 2), round(y1, 2), round(bw, 2), round(bh, 2)],
                                        area=round(bw * bh, 2), iscrowd=int(ign), segmentation=[]))
        path = osp.join(out_dir, 'annotations', f'instances_{split}.json')
        with open(path, 'w') as f:
            json.dump(dict(images=images, annotations=annotations, categories=cats), f)
        paths[split] = path
    return paths


def _voc_xml(fname, w, h, anns):
    objs = ''.join(
        f'<object><name>{escape(cls)}</name><pose>Unspecified</pose><truncated>0</truncated>'
        f'<difficult>{int(ign)}</difficult><bndbox><xmin>{int(round(x1)) + 1}</xmin>'
        f'<ymin>{int(round(y1)) + 1}</ymin><xmax>{int(round(x2))}</xmax><ymax>{int(round(y2))}</ymax>'
        '</bndbox></object>\n' for x1, y1, x2, y2, cls, ign in anns)
    return (f'<annotation><folder>VOC2007</folder><filename>{fname}</filename>'
            f'<size><width>{w}</width><height>{h}</height><depth>3</depth></size>'
            f'<segmented>0</segmented>\n{objs}</annotation>\n')


def write_voc_set(out_dir: str, splits: dict[str, int], size_range=(320, 416), seed: int = 0,
                  classes=HBOX_CLASSES, year: str = 'VOC2007') -> str:
    """Write a VOC-layout set (``{'trainval': 64, 'test': 16}``) under ``out_dir/VOCdevkit/{year}``.

    VOC xml boxes are 1-based inclusive pixel indices (``xmin = x1 + 1``), as in the real data.
    Returns the year folder.
    """
    root = osp.join(out_dir, 'VOCdevkit', year)
    for sub in ('JPEGImages', 'Annotations', 'ImageSets/Main'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    index = 0
    written: dict[str, list[str]] = {}
    for k, (split, n) in enumerate(splits.items()):
        rng = np.random.default_rng([seed, 2000 + k])
        ids = []
        for _i, w, h, (img, anns) in _render_split(rng, n, size_range, classes):
            img_id = f'{index:06d}'
            index += 1
            cv2.imwrite(osp.join(root, 'JPEGImages', img_id + '.jpg'), img, [cv2.IMWRITE_JPEG_QUALITY, 95])
            with open(osp.join(root, 'Annotations', img_id + '.xml'), 'w') as f:
                f.write(_voc_xml(img_id + '.jpg', w, h, anns))
            ids.append(img_id)
        with open(osp.join(root, 'ImageSets', 'Main', f'{split}.txt'), 'w') as f:
            f.write('\n'.join(ids) + '\n')
        written[split] = ids
    if 'train' in written and 'val' in written and 'trainval' not in written:
        with open(osp.join(root, 'ImageSets', 'Main', 'trainval.txt'), 'w') as f:
            f.write('\n'.join(written['train'] + written['val']) + '\n')
    return root
