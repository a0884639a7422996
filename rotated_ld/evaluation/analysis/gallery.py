"""Picture galleries: crops around objects with the ground truth and two models' boxes.

Drawn with :class:`rotated_ld.visualization.DetLocalVisualizer` (OpenCV): ground truth green,
model A orange, model B blue; each crop is upscaled to ``tile`` px and captioned with both IoUs.
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from rotated_ld.structures.bbox import hbox2poly, rbox2poly

__all__ = ['as_polys', 'crop_tile', 'grid', 'GT_COLOR', 'A_COLOR', 'B_COLOR']

GT_COLOR, A_COLOR, B_COLOR = (40, 200, 40), (255, 140, 0), (30, 110, 255)


def as_polys(boxes: np.ndarray) -> np.ndarray:
    """``(K, 4)`` xyxy / ``(K, 5)`` rboxes / ``(K, 8)`` polygons → ``(K, 8)`` polygons."""
    b = np.asarray(boxes, np.float64)
    width = b.shape[-1]
    b = b.reshape(-1, width)
    return hbox2poly(b) if width == 4 else rbox2poly(b) if width == 5 else b


def crop_tile(image: np.ndarray, gt_box: np.ndarray, boxes: Sequence[tuple], caption: str, tile: int = 192,
              context: float = 1.0) -> np.ndarray:
    """One ``(tile + caption, tile, 3)`` RGB crop around ``gt_box`` with ``boxes = [(box, rgb), ...]``.

    ``context``: margin around the object's bounds, as a fraction of its larger side (at least 16 px).
    """
    # local: the visualizer imports torch; evaluation.analysis stays torch-free
    from rotated_ld.visualization.local_visualizer import DetLocalVisualizer

    gp = as_polys(gt_box)[0].reshape(4, 2)
    x0, y0 = gp.min(0)
    x1, y1 = gp.max(0)
    m = max(16.0, context * max(x1 - x0, y1 - y0))
    h, w = image.shape[:2]
    cx0, cy0 = int(max(0, np.floor(x0 - m))), int(max(0, np.floor(y0 - m)))
    cx1, cy1 = int(min(w, np.ceil(x1 + m))), int(min(h, np.ceil(y1 + m)))
    crop = np.ascontiguousarray(image[cy0:max(cy1, cy0 + 1), cx0:max(cx1, cx0 + 1), :3])
    scale = tile / max(crop.shape[:2])
    crop = cv2.resize(crop, (max(1, int(round(crop.shape[1] * scale))), max(1, int(round(crop.shape[0] * scale)))),
                      interpolation=cv2.INTER_LINEAR)
    vis = DetLocalVisualizer(name=f'gallery-{id(crop)}', line_width=2)
    vis.set_image(crop)
    shift = np.tile([cx0, cy0], 4)
    for box, color in [(gt_box, GT_COLOR), *boxes]:
        vis.draw_polygons((as_polys(box) - shift) * scale, edge_colors=[color])
    canvas = np.full((tile + 22, tile, 3), 255, np.uint8)
    drawn = vis.get_image()
    canvas[:drawn.shape[0], :drawn.shape[1]] = drawn
    cv2.putText(canvas, caption, (3, tile + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return canvas


def grid(tiles: Sequence[np.ndarray], cols: int = 4, title: str = '') -> np.ndarray:
    """Tiles (same size) in rows of ``cols``, with an optional title bar."""
    if not tiles:
        tiles = [np.full((64, 192, 3), 255, np.uint8)]
    th, tw = tiles[0].shape[:2]
    rows = (len(tiles) + cols - 1) // cols
    top = 26 if title else 0
    out = np.full((top + rows * (th + 4), min(cols, len(tiles)) * (tw + 4), 3), 255, np.uint8)
    for k, t in enumerate(tiles):
        r, c = divmod(k, cols)
        out[top + r * (th + 4):top + r * (th + 4) + th, c * (tw + 4):c * (tw + 4) + tw] = t
    if title:
        cv2.putText(out, title, (4, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return out
