"""Pascal VOC (xml) detection dataset, mmdet 3.x compatible.

``data_root='data/VOCdevkit/'``, ``ann_file='VOC2007/ImageSets/Main/trainval.txt'`` (one image id
per line), ``data_prefix=dict(sub_data_root='VOC2007/')``: images are
``{sub_data_root}/JPEGImages/{id}.jpg`` and annotations ``{sub_data_root}/Annotations/{id}.xml``.
Boxes are read as mmdet does (1-based VOC pixel indices minus 1); ``<difficult>1`` objects get
``ignore_flag=1``. ``metainfo['dataset_type']`` is ``'VOC2007'`` or ``'VOC2012'`` (VOCMetric uses
the 11-point AP for 2007, area AP for 2012).

Bad input: a missing or malformed xml, a missing ``<name>``, a ``<size>`` / ``<bndbox>`` /
``<difficult>`` that is not a number (NaN/inf included), or an image that cannot be read when
``<size>`` is absent raise ``ValueError`` / ``FileNotFoundError`` naming the file (and the
object). Objects of other classes (``other_class``) and boxes with ``xmax <= xmin`` or
``ymax <= ymin`` (``degenerate``) are skipped and counted in ``dataset.skipped`` and the load log.
"""
from __future__ import annotations

import logging
import math
import os.path as osp
import xml.etree.ElementTree as ET
from collections import Counter

import cv2
from mmengine.dataset import BaseDataset
from mmengine.fileio import list_from_file
from mmengine.logging import print_log

from ..registry import DATASETS
from ._scope import rotated_ld_scope
from .dota import make_palette
from .hbox_common import class_metainfo, filter_images

VOC_CLASSES = ('aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
               'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa',
               'train', 'tvmonitor')


@DATASETS.register_module()
class VOCDataset(BaseDataset):
    """Pascal VOC 2007 / 2012 xml dataset (see module docstring).

    Args:
        img_suffix (str): image extension in JPEGImages. Default ``'jpg'``.
        minus_one (bool): subtract 1 from the xml coordinates (mmdet default True).
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments.
    """

    METAINFO = dict(classes=VOC_CLASSES, palette=make_palette(20))

    def __init__(self, *args, img_suffix: str = 'jpg', minus_one: bool = True, metainfo: dict | None = None,
                 **kwargs):
        self.img_suffix = img_suffix.lstrip('.')
        self.minus_one = minus_one
        metainfo = class_metainfo(metainfo)
        self.skipped = Counter()  # objects skipped per reason (see module docstring)
        with rotated_ld_scope():  # pipeline transforms resolve in our registry
            super().__init__(*args, metainfo=metainfo, **kwargs)

    def load_data_list(self) -> list[dict]:
        sub = self.data_prefix.get('sub_data_root', self.data_root or '')
        year = 'VOC2007' if 'VOC2007' in sub else 'VOC2012' if 'VOC2012' in sub else None
        self._metainfo['dataset_type'] = year
        classes = self.metainfo['classes']
        cat2label = {c: i for i, c in enumerate(classes)}
        data_list, n_obj, n_ign = [], 0, 0
        self.skipped = Counter()
        try:
            img_ids = list_from_file(self.ann_file)
        except UnicodeDecodeError as e:
            raise ValueError(f'{self.ann_file}: image id list is not UTF-8 text ({e})') from None
        for img_id in img_ids:
            img_id = img_id.strip()
            if not img_id:
                continue
            xml_path = osp.join(sub, 'Annotations', f'{img_id}.xml')
            if not osp.isfile(xml_path):
                raise FileNotFoundError(f'{xml_path}: annotation of image {img_id!r} (listed in {self.ann_file}) '
                                        'not found')
            try:
                root = ET.parse(xml_path).getroot()
            except ET.ParseError as e:
                raise ValueError(f'{xml_path}: malformed xml ({e})') from e
            size = root.find('size')
            if size is not None:
                try:
                    width, height = int(size.find('width').text), int(size.find('height').text)
                    if width <= 0 or height <= 0:
                        raise ValueError
                except (AttributeError, TypeError, ValueError):
                    raise ValueError(f'{xml_path}: <size> needs positive integer <width> and <height>') from None
            else:
                img_path = osp.join(sub, 'JPEGImages', f'{img_id}.{self.img_suffix}')
                img = cv2.imread(img_path)
                if img is None:
                    raise ValueError(f'{xml_path}: no <size>, and the image {img_path} cannot be read')
                height, width = img.shape[:2]
            instances = []
            for k, obj in enumerate(root.findall('object')):
                name = obj.findtext('name')
                if not name or not name.strip():
                    raise ValueError(f'{xml_path}: object {k} has no <name>')
                name = name.strip()
                if name not in cat2label:
                    self.skipped['other_class'] += 1
                    continue
                try:
                    diff = (obj.findtext('difficult') or '').strip()  # absent or empty: 0
                    ign = int(bool(diff) and int(diff) == 1)
                except ValueError:
                    raise ValueError(f'{xml_path}: object {k} ({name!r}): <difficult> {diff!r} is not an '
                                     'integer') from None
                bnd = obj.find('bndbox')
                try:
                    box = [float(bnd.find(key).text) for key in ('xmin', 'ymin', 'xmax', 'ymax')]
                    if not all(math.isfinite(v) for v in box):
                        raise ValueError
                except (AttributeError, TypeError, ValueError) as e:
                    raise ValueError(f'{xml_path}: object {k} ({name!r}) has a malformed <bndbox>; expected '
                                     '<xmin>, <ymin>, <xmax>, <ymax> finite numbers') from e
                if box[2] <= box[0] or box[3] <= box[1]:
                    self.skipped['degenerate'] += 1
                    continue
                if self.minus_one:
                    box = [v - 1 for v in box]
                instances.append(dict(bbox=box, bbox_label=cat2label[name], ignore_flag=ign))
                n_obj += 1
                n_ign += ign
            fname = f'{img_id}.{self.img_suffix}'
            data_list.append(dict(img_id=img_id, file_name=fname, xml_path=xml_path,
                                  img_path=osp.join(sub, 'JPEGImages', fname), height=height, width=width,
                                  instances=instances))
        print_log(f'VOCDataset ({year}): {len(data_list)} images, {n_obj} objects ({n_ign} difficult -> '
                  f'ignored), {self.skipped["other_class"]} objects of other classes skipped, '
                  f'{self.skipped["degenerate"]} degenerate boxes (xmax <= xmin or ymax <= ymin) skipped, '
                  f'from {self.ann_file}', logger='current',
                  level=logging.WARNING if self.skipped['degenerate'] else logging.INFO)
        return data_list

    def filter_data(self) -> list[dict]:
        return filter_images(self.data_list, self.filter_cfg, self.test_mode)

    def get_cat_ids(self, idx: int) -> list[int]:
        return [i['bbox_label'] for i in self.get_data_info(idx)['instances']]
