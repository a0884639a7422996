"""Box-type-aware numpy helpers shared by the transforms.

The pipeline keeps ``results['gt_bboxes']`` as a float32 numpy array whose last dimension names
its type: 4 = hbox ``x1 y1 x2 y2``, 5 = rbox ``cx cy w h t`` (radians, angle version in
``results['angle_version']``), 8 = qbox / polygon ``x1 y1 ... x4 y4``. Geometry of rboxes goes
through :mod:`rotated_ld.structures.bbox`.
"""
from __future__ import annotations

import numpy as np

from ...structures.bbox import flip_rboxes, hbox2rbox, poly2hbox, poly2rbox, rbox2hbox, rbox2poly, rotate_rboxes

BOX_TYPES = {4: 'hbox', 5: 'rbox', 8: 'qbox'}
BOX_DIMS = {v: k for k, v in BOX_TYPES.items()}
DEFAULT_ANGLE_VERSION = 'le90'


def box_type_of(boxes: np.ndarray) -> str:
    dim = boxes.shape[-1]
    if dim not in BOX_TYPES:
        raise ValueError(f'boxes of shape {boxes.shape}: last dim must be 4 (hbox), 5 (rbox) or 8 (qbox)')
    return BOX_TYPES[dim]


def empty_boxes(box_type: str) -> np.ndarray:
    return np.zeros((0, BOX_DIMS[box_type]), np.float32)


def convert_boxes(boxes: np.ndarray, dst: str, angle_version: str = DEFAULT_ANGLE_VERSION) -> np.ndarray:
    """Convert between hbox / rbox / qbox (numpy float32)."""
    src = box_type_of(boxes)
    boxes = np.asarray(boxes, np.float32)
    if src == dst:
        return boxes
    if len(boxes) == 0:
        return empty_boxes(dst)
    b = boxes.astype(np.float64)
    if src == 'qbox':
        out = poly2rbox(b, angle_version) if dst == 'rbox' else poly2hbox(b)
    elif src == 'hbox':
        out = hbox2rbox(b, angle_version) if dst == 'rbox' else rbox2poly(hbox2rbox(b))
    else:  # rbox
        out = rbox2hbox(b) if dst == 'hbox' else rbox2poly(b)
    return np.asarray(out, np.float32)


def scale_boxes(boxes: np.ndarray, w_scale: float, h_scale: float,
                angle_version: str = DEFAULT_ANGLE_VERSION) -> np.ndarray:
    """Scale x by ``w_scale`` and y by ``h_scale``. Rboxes under non-uniform scaling go through
    their polygon (the scaled rectangle is a parallelogram; its min-area rectangle is returned)."""
    t = box_type_of(boxes)
    if len(boxes) == 0:
        return boxes
    if t in ('hbox', 'qbox'):
        s = np.array([w_scale, h_scale] * (boxes.shape[-1] // 2), np.float32)
        return (boxes * s).astype(np.float32)
    if abs(w_scale - h_scale) < 1e-9:
        out = boxes.copy()
        out[:, :4] *= w_scale
        return out
    poly = scale_boxes(convert_boxes(boxes, 'qbox'), w_scale, h_scale)
    return convert_boxes(poly, 'rbox', angle_version)


def translate_boxes(boxes: np.ndarray, dx: float, dy: float) -> np.ndarray:
    t = box_type_of(boxes)
    out = boxes.copy()
    if t == 'rbox':
        out[:, 0] += dx
        out[:, 1] += dy
    else:
        out[:, 0::2] += dx
        out[:, 1::2] += dy
    return out


def flip_boxes(boxes: np.ndarray, img_shape, direction: str,
               angle_version: str = DEFAULT_ANGLE_VERSION) -> np.ndarray:
    """Flip with the image (``x -> W - x``, ``y -> H - y``) for 'horizontal' / 'vertical' / 'diagonal'."""
    t = box_type_of(boxes)
    if len(boxes) == 0:
        return boxes
    h, w = img_shape[:2]
    if t == 'rbox':
        return np.asarray(flip_rboxes(boxes.astype(np.float64), (h, w), direction, angle_version), np.float32)
    out = boxes.copy()
    if direction in ('horizontal', 'diagonal'):
        if t == 'hbox':
            out[:, 0], out[:, 2] = w - boxes[:, 2], w - boxes[:, 0]
        else:
            out[:, 0::2] = w - boxes[:, 0::2]
    if direction in ('vertical', 'diagonal'):
        src = out.copy()
        if t == 'hbox':
            out[:, 1], out[:, 3] = h - src[:, 3], h - src[:, 1]
        else:
            out[:, 1::2] = h - src[:, 1::2]
    return out


def rotate_boxes(boxes: np.ndarray, angle_deg: float, center, angle_version: str = DEFAULT_ANGLE_VERSION
                 ) -> np.ndarray:
    """Rotate boxes with an image warped by ``cv2.getRotationMatrix2D(center_idx, angle_deg, 1)``
    (counter-clockwise on screen for ``angle_deg > 0``); ``center`` is in continuous pixel
    coordinates (``(w / 2, h / 2)`` for the image centre). Hboxes become the hbox of the rotated
    corners; rboxes keep their shape and turn by ``-angle``."""
    t = box_type_of(boxes)
    if len(boxes) == 0:
        return boxes
    rad = -np.deg2rad(angle_deg)
    if t == 'rbox':
        return np.asarray(rotate_rboxes(boxes.astype(np.float64), float(rad), center, angle_version), np.float32)
    poly = convert_boxes(boxes, 'qbox').astype(np.float64).reshape(-1, 4, 2)
    c, s = np.cos(rad), np.sin(rad)
    d = poly - np.asarray(center, np.float64)
    rot = np.stack([c * d[..., 0] - s * d[..., 1], s * d[..., 0] + c * d[..., 1]], -1) + center
    rot = rot.reshape(-1, 8).astype(np.float32)
    return rot if t == 'qbox' else convert_boxes(rot, 'hbox')


def box_centers(boxes: np.ndarray) -> np.ndarray:
    t = box_type_of(boxes)
    if t == 'rbox':
        return boxes[:, :2]
    if t == 'hbox':
        return (boxes[:, :2] + boxes[:, 2:]) / 2
    return boxes.reshape(-1, 4, 2).mean(1)


def centers_inside(boxes: np.ndarray, img_shape) -> np.ndarray:
    """(N,) bool: box centre inside ``[0, W) x [0, H)``."""
    if len(boxes) == 0:
        return np.zeros((0,), bool)
    h, w = img_shape[:2]
    c = box_centers(boxes)
    return (c[:, 0] >= 0) & (c[:, 0] < w) & (c[:, 1] >= 0) & (c[:, 1] < h)


def clip_hboxes(boxes: np.ndarray, img_shape) -> np.ndarray:
    h, w = img_shape[:2]
    out = boxes.copy()
    out[:, 0::2] = out[:, 0::2].clip(0, w)
    out[:, 1::2] = out[:, 1::2].clip(0, h)
    return out
