"""COCO-format detection dataset (pycocotools), mmdet 3.x compatible data_info layout.

data_info: ``dict(img_id, img_path, height, width, instances=[dict(bbox=[x1, y1, x2, y2],
bbox_label, ignore_flag)])``; ``iscrowd=1`` objects get ``ignore_flag=1``. Objects with
``w < 1`` or ``h < 1`` or ``area <= 0`` (``degenerate``) or no overlap with the image
(``outside_image``) are dropped as mmdet does, objects of categories not in ``classes``
(``other_category``) and of image ids absent from ``images`` (``no_image``) are skipped; all are
counted per reason in ``dataset.dropped`` and in the load log. A file that is not COCO json, an
image without ``file_name`` / positive ``height`` / ``width``, or a ``bbox`` that is not 4 finite
numbers raises ``ValueError`` naming the file and the image / annotation id.
"""
from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import os.path as osp
from collections import Counter

from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from pycocotools.coco import COCO

from ..registry import DATASETS
from ._scope import rotated_ld_scope
from .dota import make_palette
from .hbox_common import class_metainfo, filter_images

COCO_CLASSES = (
    'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
    'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow',
    'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee',
    'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard',
    'tennis racket', 'bottle', 'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple',
    'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch',
    'potted plant', 'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard',
    'cell phone', 'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase',
    'scissors', 'teddy bear', 'hair drier', 'toothbrush')


@DATASETS.register_module()
class CocoDataset(BaseDataset):
    """COCO json dataset.

    Args:
        metainfo (dict): ``classes`` selects and orders categories by name (default: the 80
            COCO classes). Categories of the json that are not listed are ignored.
        filter_cfg (dict): ``filter_empty_gt`` (drop images without non-ignored objects in
            training) and ``min_size`` (drop images smaller than this).
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments
            (``ann_file='annotations/instances_train2017.json'``, ``data_prefix=dict(img='train2017/')``).
    """

    METAINFO = dict(classes=COCO_CLASSES, palette=make_palette(80))

    def __init__(self, *args, metainfo: dict | None = None, **kwargs):
        metainfo = class_metainfo(metainfo)
        self.dropped = Counter()  # annotations dropped per reason (see module docstring)
        with rotated_ld_scope():  # pipeline transforms resolve in our registry
            super().__init__(*args, metainfo=metainfo, **kwargs)

    def load_data_list(self) -> list[dict]:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                self.coco = COCO(self.ann_file)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ValueError(f'{self.ann_file}: not a COCO json file ({e})') from None
        except AssertionError as e:  # pycocotools: the top level is not a dict
            raise ValueError(f'{self.ann_file}: not a COCO json file ({e}); expected an object with '
                             "'images', 'annotations', 'categories'") from None
        except (KeyError, TypeError) as e:  # pycocotools' index: an entry without 'id', 'image_id', ...
            what = f'missing key {e}' if isinstance(e, KeyError) else f'wrong type: {e}'
            raise ValueError(f'{self.ann_file}: malformed COCO entry ({what}); expected images with "id", '
                             'annotations with "id", "image_id", "category_id", "bbox"') from None
        for key in ('images', 'annotations', 'categories'):  # pycocotools keeps the last of equal ids
            ids = [e['id'] for e in self.coco.dataset.get(key) or []]
            if len(ids) != len(set(ids)):
                dup, n = Counter(ids).most_common(1)[0]
                raise ValueError(f'{self.ann_file}: {key} id {dup!r} appears {n} times; expected unique ids')
        classes = self.metainfo['classes']
        try:
            name2cat = {c['name']: c['id'] for c in self.coco.loadCats(self.coco.getCatIds())}
        except (KeyError, TypeError):
            raise ValueError(f'{self.ann_file}: a category without "name"; expected categories like '
                             '{"id": 1, "name": "person"}') from None
        missing = [c for c in classes if c not in name2cat]
        if missing:
            raise KeyError(f'{self.ann_file}: classes {missing} are not categories of the json '
                           f'(it has {sorted(name2cat)})')
        self.cat_ids = [name2cat[c] for c in classes]
        self.cat2label = {cat: i for i, cat in enumerate(self.cat_ids)}
        img_dir = self.data_prefix.get('img', self.data_prefix.get('img_path', ''))
        data_list, n_obj, n_ign = [], 0, 0
        self.dropped = Counter()
        self.dropped['no_image'] = sum(a['image_id'] not in self.coco.imgs for a in self.coco.anns.values())
        for img_id in sorted(self.coco.getImgIds()):
            info = self.coco.loadImgs([img_id])[0]
            try:
                fname, width, height = info['file_name'], float(info['width']), float(info['height'])
                if not (isinstance(fname, str) and width > 0 and height > 0 and math.isfinite(width * height)):
                    raise ValueError
            except (KeyError, TypeError, ValueError):
                raise ValueError(f'{self.ann_file}: image id {img_id}: expected file_name and positive width, '
                                 f'height; got {info!r}') from None
            instances = []
            for ann in self.coco.loadAnns(self.coco.getAnnIds(imgIds=[img_id])):
                if ann['category_id'] not in self.cat2label:
                    self.dropped['other_category'] += 1
                    continue
                box = ann.get('bbox')
                try:
                    if isinstance(box, str):
                        raise ValueError
                    x, y, w, h = (float(v) for v in box)
                    area = float(ann.get('area', w * h))
                    if not all(math.isfinite(v) for v in (x, y, w, h, area)):
                        raise ValueError
                except (TypeError, ValueError):
                    raise ValueError(f'{self.ann_file}: annotation id {ann.get("id")} (image {img_id}): bbox '
                                     f'{box!r}, area {ann.get("area")!r}; expected bbox [x, y, w, h] and area '
                                     'finite numbers') from None
                if area <= 0 or w < 1 or h < 1:
                    self.dropped['degenerate'] += 1
                    continue
                if min(x + w, width) <= max(x, 0) or min(y + h, height) <= max(y, 0):  # as mmdet
                    self.dropped['outside_image'] += 1
                    continue
                ign = int(bool(ann.get('iscrowd', 0)))
                instances.append(dict(bbox=[x, y, x + w, y + h], bbox_label=self.cat2label[ann['category_id']],
                                      ignore_flag=ign))
                n_obj += 1
                n_ign += ign
            data_list.append(dict(img_id=img_id, img_path=osp.join(img_dir, fname),
                                  file_name=fname, height=info['height'], width=info['width'],
                                  instances=instances))
        dropped = sum(self.dropped.values())
        reasons = ', '.join(f'{k} {v}' for k, v in sorted(self.dropped.items()) if v) or 'none'
        print_log(f'CocoDataset: {len(data_list)} images, {n_obj} objects ({n_ign} iscrowd -> ignored), '
                  f'{dropped} annotations dropped ({reasons}), from {self.ann_file}', logger='current',
                  level=logging.WARNING if dropped - self.dropped['other_category'] else logging.INFO)
        return data_list

    def filter_data(self) -> list[dict]:
        return filter_images(self.data_list, self.filter_cfg, self.test_mode)

    def get_cat_ids(self, idx: int) -> list[int]:
        return [i['bbox_label'] for i in self.get_data_info(idx)['instances']]
