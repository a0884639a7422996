"""What the horizontal-box datasets (:class:`CocoDataset`, :class:`VOCDataset`) share: the class
``metainfo`` override and the training image filter (mmdet ``filter_cfg`` semantics)."""
from __future__ import annotations

from typing import Optional

from .dota_classes import make_palette


def class_metainfo(metainfo: Optional[dict]) -> dict:
    """A copy of the user's ``metainfo`` with ``classes`` as a tuple and a palette of matching length
    (unless one is given)."""
    metainfo = dict(metainfo or {})
    if 'classes' in metainfo:
        metainfo['classes'] = tuple(metainfo['classes'])
        metainfo.setdefault('palette', make_palette(len(metainfo['classes'])))
    return metainfo


def filter_images(data_list: list[dict], filter_cfg: Optional[dict], test_mode: bool) -> list[dict]:
    """Training filter: ``filter_empty_gt`` drops images without a non-ignored instance, ``min_size``
    drops images whose shorter side (pixels) is below it. Test mode keeps everything."""
    if test_mode or not filter_cfg:
        return data_list
    empty = filter_cfg.get('filter_empty_gt', False)
    min_size = filter_cfg.get('min_size', 0)
    return [d for d in data_list
            if (not empty or any(not i['ignore_flag'] for i in d['instances']))
            and min(d['width'], d['height']) >= min_size]
