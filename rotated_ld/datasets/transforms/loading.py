"""Loading transforms: image file -> ``img``; data_info ``instances`` -> ``gt_*`` arrays."""
from __future__ import annotations

import cv2
import numpy as np
from mmengine.fileio import get

from ...registry import TRANSFORMS
from ..split.img_split import image_file_problem
from .boxes import BOX_DIMS, DEFAULT_ANGLE_VERSION, convert_boxes, empty_boxes


@TRANSFORMS.register_module()
class LoadImageFromFile:
    """Read ``results['img_path']`` as BGR uint8 (H, W, 3); sets ``img``, ``img_shape``, ``ori_shape``.

    Args:
        to_float32 (bool): convert to float32.
        color_type (str): ``'color'`` (3-channel BGR) or ``'unchanged'``.
        backend_args (dict | None): mmengine file backend arguments (local files by default).
        ignore_empty (bool): return None (dataset resamples) instead of raising on unreadable files.
    """

    def __init__(self, to_float32: bool = False, color_type: str = 'color', backend_args=None,
                 ignore_empty: bool = False, **kwargs):
        if color_type not in ('color', 'unchanged', 'grayscale'):
            raise ValueError(f"color_type={color_type!r}; expected 'color', 'unchanged' or 'grayscale'")
        self.to_float32, self.color_type, self.backend_args = to_float32, color_type, backend_args
        self.ignore_empty = ignore_empty

    def __call__(self, results: dict) -> dict | None:
        path = results['img_path']
        flag = {'color': cv2.IMREAD_COLOR, 'unchanged': cv2.IMREAD_UNCHANGED,
                'grayscale': cv2.IMREAD_GRAYSCALE}[self.color_type]
        try:
            if self.backend_args:
                img = cv2.imdecode(np.frombuffer(get(path, backend_args=self.backend_args), np.uint8), flag)
            else:
                img = cv2.imread(path, flag)
        except Exception:  # noqa: BLE001
            img = None
        # OpenCV decodes a truncated JPEG as a grey-bottomed image without an error: refuse it too
        problem = None if img is None or self.backend_args else image_file_problem(path)
        if img is None or problem:
            if self.ignore_empty:
                return None
            if img is None:
                raise FileNotFoundError(f'cannot read image {path!r}')
            raise ValueError(f'image {path!r}: {problem}; re-export or remove it')
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self):
        return f'{type(self).__name__}(to_float32={self.to_float32}, color_type={self.color_type!r})'


@TRANSFORMS.register_module()
class LoadAnnotations:
    """``results['instances']`` -> ``gt_bboxes`` (N, 4|8) float32, ``gt_bboxes_labels`` (N,) int64,
    ``gt_ignore_flags`` (N,) bool.

    Args:
        with_bbox (bool), with_label (bool): load boxes / labels.
        box_type (str): ``'hbox'`` (instances hold ``x1 y1 x2 y2``), ``'qbox'`` (8-coordinate
            polygons, DOTA) or ``'rbox'`` (polygons converted to rboxes of ``angle_version``).
        angle_version (str): for ``box_type='rbox'``.
    """

    def __init__(self, with_bbox: bool = True, with_label: bool = True, box_type: str = 'hbox',
                 angle_version: str = DEFAULT_ANGLE_VERSION, **kwargs):
        if box_type not in BOX_DIMS:
            raise ValueError(f'box_type={box_type!r}; expected one of {tuple(BOX_DIMS)}')
        self.with_bbox, self.with_label, self.box_type = with_bbox, with_label, box_type
        self.angle_version = angle_version

    def __call__(self, results: dict) -> dict:
        instances = results.get('instances', [])
        if self.with_bbox:
            src = 'qbox' if self.box_type in ('qbox', 'rbox') else 'hbox'
            dim = BOX_DIMS[src]
            if instances:
                boxes = np.asarray([inst['bbox'] for inst in instances], np.float32)
                if boxes.ndim != 2 or boxes.shape[1] != dim:
                    raise ValueError(f"{results.get('img_path')}: box_type={self.box_type!r} expects "
                                     f'{dim} coordinates per instance, got shape {boxes.shape}')
            else:
                boxes = empty_boxes(src)
            if self.box_type == 'rbox':
                boxes = convert_boxes(boxes, 'rbox', self.angle_version)
                results['angle_version'] = self.angle_version
            results['gt_bboxes'] = boxes
            results['gt_ignore_flags'] = np.asarray([bool(i.get('ignore_flag', 0)) for i in instances], bool)
        if self.with_label:
            results['gt_bboxes_labels'] = np.asarray([i['bbox_label'] for i in instances], np.int64)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(box_type={self.box_type!r})'


@TRANSFORMS.register_module()
class ConvertBoxType:
    """Convert boxes between ``'hbox'``, ``'rbox'`` and ``'qbox'``, e.g. DOTA polygons to rboxes.

    Args:
        box_type_mapping (dict): result key -> target type, e.g. ``dict(gt_bboxes='rbox')``.
        angle_version (str): angle version of produced rboxes (``'oc'``, ``'le90'``, ``'le135'``);
            stored in ``results['angle_version']`` for the later transforms.
    """

    def __init__(self, box_type_mapping: dict, angle_version: str = DEFAULT_ANGLE_VERSION):
        for k, v in box_type_mapping.items():
            if v not in BOX_DIMS:
                raise ValueError(f'box_type_mapping[{k!r}]={v!r}; expected one of {tuple(BOX_DIMS)}')
        self.box_type_mapping, self.angle_version = dict(box_type_mapping), angle_version

    def __call__(self, results: dict) -> dict:
        for key, dst in self.box_type_mapping.items():
            if key in results:
                results[key] = convert_boxes(results[key], dst, self.angle_version)
        results['angle_version'] = self.angle_version
        return results

    def __repr__(self):
        return f'{type(self).__name__}({self.box_type_mapping}, angle_version={self.angle_version!r})'
