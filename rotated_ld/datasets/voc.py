"""Pascal VOC (xml) detection dataset, mmdet 3.x compatible.

``data_root='data/VOCdevkit/'``, ``ann_file='VOC2007/ImageSets/Main/trainval.txt'`` (one image id
per line), ``data_prefix=dict(sub_data_root='VOC2007/')``: images are
``{sub_data_root}/JPEGImages/{id}.jpg`` and annotations ``{sub_data_root}/Annotations/{id}.xml``.
Boxes are read as mmdet does (1-based VOC pixel indices minus 1); ``<difficult>1`` objects get
``ignore_flag=1``. ``metainfo['dataset_type']`` is ``'VOC2007'`` or ``'VOC2012'`` (VOCMetric uses
the 11-point AP for 2007, area AP for 2012).
"""
from __future__ import annotations

import logging
import os.path as osp
import xml.etree.ElementTree as ET

from mmengine.dataset import BaseDataset
from mmengine.fileio import list_from_file
from mmengine.logging import print_log

from ..registry import DATASETS
from ._scope import rotated_ld_scope
from .dota import make_palette

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
        metainfo = dict(metainfo or {})
        if 'classes' in metainfo:
            metainfo['classes'] = tuple(metainfo['classes'])
            metainfo.setdefault('palette', make_palette(len(metainfo['classes'])))
        with rotated_ld_scope():  # pipeline transforms resolve in our registry
            super().__init__(*args, metainfo=metainfo, **kwargs)

    def load_data_list(self) -> list[dict]:
        sub = self.data_prefix.get('sub_data_root', self.data_root or '')
        year = 'VOC2007' if 'VOC2007' in sub else 'VOC2012' if 'VOC2012' in sub else None
        self._metainfo['dataset_type'] = year
        classes = self.metainfo['classes']
        cat2label = {c: i for i, c in enumerate(classes)}
        data_list, n_obj, n_ign, unknown = [], 0, 0, 0
        for img_id in list_from_file(self.ann_file):
            img_id = img_id.strip()
            if not img_id:
                continue
            xml_path = osp.join(sub, 'Annotations', f'{img_id}.xml')
            try:
                root = ET.parse(xml_path).getroot()
            except ET.ParseError as e:
                raise ValueError(f'{xml_path}: malformed xml ({e})') from e
            size = root.find('size')
            if size is not None:
                width, height = int(size.find('width').text), int(size.find('height').text)
            else:
                import cv2

                img = cv2.imread(osp.join(sub, 'JPEGImages', f'{img_id}.{self.img_suffix}'))
                height, width = img.shape[:2]
            instances = []
            for obj in root.findall('object'):
                name = obj.find('name').text.strip()
                if name not in cat2label:
                    unknown += 1
                    continue
                diff = obj.find('difficult')
                ign = int(diff is not None and int(diff.text) == 1)
                bnd = obj.find('bndbox')
                try:
                    box = [float(bnd.find(k).text) for k in ('xmin', 'ymin', 'xmax', 'ymax')]
                except (AttributeError, TypeError, ValueError) as e:
                    raise ValueError(f'{xml_path}: object {name!r} has a malformed <bndbox>') from e
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
                  f'ignored), {unknown} objects of other classes skipped, from {self.ann_file}',
                  logger='current', level=logging.INFO)
        return data_list

    def filter_data(self) -> list[dict]:
        if self.test_mode or not self.filter_cfg:
            return self.data_list
        empty = self.filter_cfg.get('filter_empty_gt', False)
        min_size = self.filter_cfg.get('min_size', 0)
        return [d for d in self.data_list
                if (not empty or any(not i['ignore_flag'] for i in d['instances']))
                and min(d['width'], d['height']) >= min_size]

    def get_cat_ids(self, idx: int) -> list[int]:
        return [i['bbox_label'] for i in self.get_data_info(idx)['instances']]
