"""Geometric transforms for horizontal (hbox), quadrilateral (qbox) and rotated (rbox) boxes.

Each is a plain callable ``dict -> dict`` (or ``None``: the dataset then samples another image)
registered in ``TRANSFORMS``. Boxes follow the image exactly: coordinates are continuous pixel
coordinates (pixel ``i`` covers ``[i, i + 1)``), flips map ``x -> W - x``, rotations turn about
``(W / 2, H / 2)``. Rboxes are re-regularised to ``results['angle_version']`` (set by
``ConvertBoxType`` / ``LoadAnnotations(box_type='rbox')``; default ``'le90'``). mmrotate names
(``RResize``, ``RRandomFlip``, ``RRandomCrop``) are registered as aliases.
"""
from __future__ import annotations

import random

import cv2
import numpy as np

from ...registry import TRANSFORMS
from .boxes import (
    DEFAULT_ANGLE_VERSION,
    box_type_of,
    centers_inside,
    clip_hboxes,
    flip_boxes,
    rotate_boxes,
    scale_boxes,
    translate_boxes,
)

_INTERP = {'nearest': cv2.INTER_NEAREST, 'bilinear': cv2.INTER_LINEAR, 'bicubic': cv2.INTER_CUBIC,
           'area': cv2.INTER_AREA, 'lanczos': cv2.INTER_LANCZOS4}
_GT_KEYS = ('gt_bboxes', 'gt_bboxes_labels', 'gt_ignore_flags')


def _keep(results: dict, keep: np.ndarray) -> None:
    for k in _GT_KEYS:
        if k in results:
            results[k] = results[k][keep]


def _av(results: dict) -> str:
    return results.get('angle_version', DEFAULT_ANGLE_VERSION)


@TRANSFORMS.register_module()
class Resize:
    """Resize image and boxes (mmdet 3 semantics).

    Args:
        scale (tuple[int, int] | int | None): target ``(w, h)``. With ``keep_ratio`` the image is
            scaled by ``min(max(scale) / long_side, min(scale) / short_side)``.
        scale_factor (float | tuple | None): used when ``scale`` is None.
        keep_ratio (bool): keep the aspect ratio.
        clip_object_border (bool): clip hboxes to the image (q/rboxes are never clipped).
        interpolation (str): ``'bilinear'`` etc.

    Sets ``img_shape``, ``scale`` (w, h), ``scale_factor`` (w_scale, h_scale) relative to the
    image as loaded (chained resizes multiply), ``keep_ratio``.
    """

    def __init__(self, scale=None, scale_factor=None, keep_ratio: bool = False, clip_object_border: bool = True,
                 interpolation: str = 'bilinear', backend: str = 'cv2'):
        if scale is None and scale_factor is None:
            raise ValueError('give scale or scale_factor')
        self.scale = (scale, scale) if isinstance(scale, int) else (tuple(scale) if scale is not None else None)
        if scale_factor is not None and not isinstance(scale_factor, (tuple, list)):
            scale_factor = (float(scale_factor), float(scale_factor))
        self.scale_factor = scale_factor
        self.keep_ratio, self.clip_object_border = keep_ratio, clip_object_border
        if interpolation not in _INTERP:
            raise ValueError(f'interpolation={interpolation!r}; expected one of {tuple(_INTERP)}')
        self.interpolation = interpolation

    def _target(self, h: int, w: int) -> tuple[int, int]:
        if self.scale is not None:
            if self.keep_ratio:
                sf = min(max(self.scale) / max(h, w), min(self.scale) / min(h, w))
                return int(w * sf + 0.5), int(h * sf + 0.5)
            return int(self.scale[0]), int(self.scale[1])
        sw, sh = self.scale_factor
        if self.keep_ratio:
            sh = sw
        return int(w * sw + 0.5), int(h * sh + 0.5)

    def __call__(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        nw, nh = self._target(h, w)
        results['img'] = cv2.resize(img, (nw, nh), interpolation=_INTERP[self.interpolation])
        ws, hs = nw / w, nh / h
        results['img_shape'] = (nh, nw)
        results['scale'] = (nw, nh)
        prev = results.get('scale_factor', (1.0, 1.0))
        results['scale_factor'] = (prev[0] * ws, prev[1] * hs)
        results['keep_ratio'] = self.keep_ratio
        if 'gt_bboxes' in results:
            boxes = scale_boxes(results['gt_bboxes'], ws, hs, _av(results))
            if self.clip_object_border and box_type_of(boxes) == 'hbox':
                boxes = clip_hboxes(boxes, (nh, nw))
            results['gt_bboxes'] = boxes
        return results

    def __repr__(self):
        return f'{type(self).__name__}(scale={self.scale}, keep_ratio={self.keep_ratio})'


@TRANSFORMS.register_module()
class RandomResize:
    """Resize to a random scale (mmcv semantics), then as :class:`Resize`.

    Args:
        scale (tuple | list[tuple]): one ``(w, h)`` with ``ratio_range``, or two ``(w, h)`` whose
            long and short edges bound a uniformly sampled (long, short) target.
        ratio_range (tuple[float, float] | None): multiply ``scale`` by a ratio in this range.
        keep_ratio (bool), clip_object_border (bool), interpolation (str): as :class:`Resize`.
    """

    def __init__(self, scale, ratio_range=None, keep_ratio: bool = True, **resize_kwargs):
        self.scale, self.ratio_range = scale, ratio_range
        self.keep_ratio, self.resize_kwargs = keep_ratio, resize_kwargs
        if ratio_range is None and not (isinstance(scale, (list, tuple)) and len(scale) == 2
                                        and all(isinstance(s, (list, tuple)) for s in scale)):
            raise ValueError(f'scale={scale!r}: give two (w, h) scales or one scale with ratio_range')

    def _sample(self):
        if self.ratio_range is not None:
            r = random.uniform(*self.ratio_range)
            return int(self.scale[0] * r), int(self.scale[1] * r)
        longs = [max(s) for s in self.scale]
        shorts = [min(s) for s in self.scale]
        return random.randint(min(longs), max(longs)), random.randint(min(shorts), max(shorts))

    def __call__(self, results: dict) -> dict:
        return Resize(scale=self._sample(), keep_ratio=self.keep_ratio, **self.resize_kwargs)(results)

    def __repr__(self):
        return f'{type(self).__name__}(scale={self.scale}, ratio_range={self.ratio_range})'


@TRANSFORMS.register_module()
class RandomFlip:
    """Flip image and boxes.

    Args:
        prob (float | list[float]): a float with a list of directions gives each direction
            ``prob / len(direction)`` (mmcv semantics); a list gives one probability per direction.
        direction (str | list[str]): ``'horizontal'``, ``'vertical'``, ``'diagonal'``.

    Sets ``flip`` (bool) and ``flip_direction`` (str | None).
    """

    def __init__(self, prob=None, direction='horizontal'):
        dirs = [direction] if isinstance(direction, str) else list(direction)
        for d in dirs:
            if d not in ('horizontal', 'vertical', 'diagonal'):
                raise ValueError(f"direction {d!r}; expected 'horizontal', 'vertical' or 'diagonal'")
        if prob is None:
            prob = 0.5
        if isinstance(prob, (list, tuple)):
            if len(prob) != len(dirs) or sum(prob) > 1 + 1e-9:
                raise ValueError(f'prob {prob} must have one entry per direction {dirs} and sum <= 1')
            probs = list(prob)
        else:
            if not 0 <= prob <= 1:
                raise ValueError(f'prob={prob}; expected 0 <= prob <= 1')
            probs = [prob / len(dirs)] * len(dirs)
        self.directions, self.probs = dirs, probs

    def _choose(self):
        r, acc = random.random(), 0.0
        for d, p in zip(self.directions, self.probs):
            acc += p
            if r < acc:
                return d
        return None

    def __call__(self, results: dict) -> dict:
        d = self._choose()
        results['flip'] = d is not None
        results['flip_direction'] = d
        if d is not None:
            flip(results, d)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(prob={self.probs}, direction={self.directions})'


def flip(results: dict, direction: str) -> dict:
    """Flip ``results`` (image and gt boxes) in ``direction`` in place."""
    img = results['img']
    if direction == 'horizontal':
        img = img[:, ::-1]
    elif direction == 'vertical':
        img = img[::-1]
    else:
        img = img[::-1, ::-1]
    results['img'] = np.ascontiguousarray(img)
    if 'gt_bboxes' in results:
        results['gt_bboxes'] = flip_boxes(results['gt_bboxes'], img.shape[:2], direction, _av(results))
    return results


@TRANSFORMS.register_module()
class RandomRotate:
    """Rotate image and boxes about the image centre, keeping the image size (mmrotate 1.x).

    Args:
        prob (float): probability to rotate.
        angle_range (float): uniform angle in ``[-angle_range, angle_range]`` degrees
            (positive = clockwise on screen, as mmcv ``imrotate``).
        angles (list[float] | None): choose the angle from this list instead.
        rect_obj_labels (list[int] | None): labels of objects that are always axis-aligned
            (e.g. storage-tank, roundabout); if any is present the angle is one of
            ``90, 180, -90, -180`` so they stay axis-aligned. Alias: ``rect_classes``.
        pad_val (int | tuple): border fill value.
        keep_empty (bool): keep the rotation when all boxes leave the image (else undo it).

    Boxes whose centre leaves the image are dropped (labels / ignore flags with them); hboxes
    become the hbox of their rotated corners, clipped to the image.
    """

    def __init__(self, prob: float = 0.5, angle_range: float = 180, angles=None, rect_obj_labels=None,
                 rect_classes=None, pad_val=0, keep_empty: bool = False, rotate_type=None):
        self.prob, self.angle_range = prob, angle_range
        self.angles = list(angles) if angles is not None else None
        labels = rect_obj_labels if rect_obj_labels is not None else rect_classes
        self.rect_obj_labels = set(labels or [])
        self.pad_val, self.keep_empty = pad_val, keep_empty

    def _angle(self, results) -> float:
        labels = results.get('gt_bboxes_labels')
        if self.rect_obj_labels and labels is not None and any(int(v) in self.rect_obj_labels for v in labels):
            return random.choice([90.0, 180.0, -90.0, -180.0])
        if self.angles:
            return float(random.choice(self.angles))
        return random.uniform(-self.angle_range, self.angle_range)

    def __call__(self, results: dict) -> dict:
        if random.random() >= self.prob:
            results['rotate_angle'] = 0.0
            return results
        return rotate(results, self._angle(results), self.pad_val, self.keep_empty)

    def __repr__(self):
        return f'{type(self).__name__}(prob={self.prob}, angle_range={self.angle_range}, angles={self.angles})'


def rotate(results: dict, angle: float, pad_val=0, keep_empty: bool = True) -> dict:
    """Rotate ``results`` by ``angle`` degrees clockwise on screen about the image centre."""
    img = results['img']
    h, w = img.shape[:2]
    # cv2 works on pixel indices: the continuous centre (w/2, h/2) is index ((w-1)/2, (h-1)/2)
    m = cv2.getRotationMatrix2D(((w - 1) * 0.5, (h - 1) * 0.5), -angle, 1.0)
    border = pad_val if isinstance(pad_val, (int, float)) else tuple(pad_val)
    if 'gt_bboxes' in results:
        boxes = rotate_boxes(results['gt_bboxes'], -angle, (w / 2, h / 2), _av(results))
        keep = centers_inside(boxes, (h, w))
        if not keep.any() and len(boxes) and not keep_empty:
            results['rotate_angle'] = 0.0
            return results
        if box_type_of(boxes) == 'hbox':
            boxes = clip_hboxes(boxes, (h, w))
        results['gt_bboxes'] = boxes
        _keep(results, keep)
    results['img'] = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=border)
    results['rotate_angle'] = angle
    return results


@TRANSFORMS.register_module()
class RandomCrop:
    """Crop a random window (mmdet 3 semantics, ``crop_type='absolute'``).

    Args:
        crop_size (tuple[int, int]): ``(w, h)`` in pixels (``'absolute'``) or ratios
            (``'relative'``; then each in (0, 1]).
        crop_type (str): ``'absolute'`` or ``'relative'``.
        allow_negative_crop (bool): keep crops without any object (else return None so the
            dataset samples another image; images without objects are always kept).
        bbox_clip_border (bool): clip hboxes to the crop. Hboxes survive with positive area;
            q/rboxes (never clipped) survive when their centre is inside the crop.
    """

    def __init__(self, crop_size, crop_type: str = 'absolute', allow_negative_crop: bool = False,
                 recompute_bbox: bool = False, bbox_clip_border: bool = True):
        if crop_type not in ('absolute', 'relative'):
            raise ValueError(f"crop_type={crop_type!r}; expected 'absolute' or 'relative'")
        self.crop_size, self.crop_type = tuple(crop_size), crop_type
        self.allow_negative_crop, self.bbox_clip_border = allow_negative_crop, bbox_clip_border

    def __call__(self, results: dict) -> dict | None:
        img = results['img']
        h, w = img.shape[:2]
        if self.crop_type == 'absolute':
            cw, ch = min(int(self.crop_size[0]), w), min(int(self.crop_size[1]), h)
        else:
            cw, ch = int(w * self.crop_size[0] + 0.5), int(h * self.crop_size[1] + 0.5)
        x0 = random.randint(0, max(w - cw, 0))
        y0 = random.randint(0, max(h - ch, 0))
        if 'gt_bboxes' in results and len(results['gt_bboxes']):
            boxes = translate_boxes(results['gt_bboxes'], -x0, -y0)
            if box_type_of(boxes) == 'hbox':
                if self.bbox_clip_border:
                    boxes = clip_hboxes(boxes, (ch, cw))
                keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
            else:
                keep = centers_inside(boxes, (ch, cw))
            if not keep.any() and not self.allow_negative_crop:
                return None
            results['gt_bboxes'] = boxes
            _keep(results, keep)
        results['img'] = img[y0:y0 + ch, x0:x0 + cw]
        results['img_shape'] = (ch, cw)
        results['crop_offset'] = (x0, y0)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(crop_size={self.crop_size}, crop_type={self.crop_type!r})'


@TRANSFORMS.register_module()
class Pad:
    """Pad the image at the bottom / right (boxes unchanged).

    Args:
        size (tuple[int, int] | None): fixed ``(w, h)``.
        size_divisor (int | None): pad each side to a multiple of this.
        pad_to_square (bool): pad to a square of the longer side.
        pad_val (dict | int | tuple): ``dict(img=value)`` or the value itself.

    Sets ``pad_shape``, ``img_shape`` (padded), ``pad_fixed_size``, ``pad_size_divisor``.
    """

    def __init__(self, size=None, size_divisor=None, pad_to_square: bool = False, pad_val=None,
                 padding_mode: str = 'constant'):
        if sum(x is not None and x is not False for x in (size, size_divisor, pad_to_square or None)) == 0:
            raise ValueError('give size, size_divisor or pad_to_square')
        self.size = tuple(size) if size is not None else None
        self.size_divisor, self.pad_to_square = size_divisor, pad_to_square
        if pad_val is None:
            pad_val = 0
        self.pad_val = pad_val.get('img', 0) if isinstance(pad_val, dict) else pad_val

    def __call__(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        th, tw = h, w
        if self.pad_to_square:
            th = tw = max(h, w)
        if self.size is not None:
            tw, th = max(tw, self.size[0]), max(th, self.size[1])
        if self.size_divisor:
            d = self.size_divisor
            th, tw = -(-th // d) * d, -(-tw // d) * d
        if (th, tw) != (h, w):
            out = np.empty((th, tw) + img.shape[2:], img.dtype)
            val = self.pad_val
            out[...] = val if np.isscalar(val) or img.ndim == 2 else np.asarray(val, img.dtype)
            out[:h, :w] = img
            img = out
        results['img'] = img
        results['pad_shape'] = img.shape[:2]
        results['img_shape'] = img.shape[:2]
        results['pad_fixed_size'] = self.size
        results['pad_size_divisor'] = self.size_divisor
        return results

    def __repr__(self):
        return f'{type(self).__name__}(size={self.size}, size_divisor={self.size_divisor})'


# mmrotate's names: its R-prefixed copies existed for rboxes; these transforms handle every box type
for _alias, _transform in (('RResize', Resize), ('RRandomFlip', RandomFlip), ('RRandomCrop', RandomCrop)):
    TRANSFORMS.register_module(name=_alias, module=_transform)
