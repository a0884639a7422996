"""Drawing horizontal boxes, rotated boxes and polygons with class names and scores.

:class:`DetLocalVisualizer` is an MMEngine :class:`~mmengine.visualization.Visualizer` registered
in ``VISUALIZERS``. Unlike the base class it renders with OpenCV directly on a uint8 copy of the
image instead of a matplotlib canvas: a 10,000 px DOTA scene needs one image-sized buffer (no
RGBA figure of 400 MB) and draws thousands of boxes in milliseconds. Line width and label size
scale with the image (``line_width = max(2, max(H, W) / 600)``) so labels stay legible on
large scenes and small on patches.

Conventions: images are RGB uint8 ``(H, W, 3)`` (MMEngine's); colours are RGB tuples; boxes are
``(N, 4)`` xyxy, ``(N, 5)`` ``(cx, cy, w, h, t)`` with ``t`` in radians (positive = clockwise on
screen, any angle version), or ``(N, 8)`` polygons ``x1 y1 ... x4 y4``.
"""
from __future__ import annotations

import os
import os.path as osp
from typing import Optional, Sequence, Union

import cv2
import numpy as np
import torch
from mmengine.visualization import Visualizer

from rotated_ld.datasets.dota_classes import make_palette
from rotated_ld.registry import VISUALIZERS

__all__ = ['DetLocalVisualizer', 'get_palette', 'rboxes_to_polys', 'auto_line_width', 'save_rgb']

ColorLike = Union[str, tuple, list, None]
_NAMED = dict(red=(255, 0, 0), green=(0, 255, 0), blue=(0, 0, 255), yellow=(255, 255, 0),
              white=(255, 255, 255), black=(0, 0, 0), cyan=(0, 255, 255), magenta=(255, 0, 255))


def get_palette(palette, num_classes: int) -> list[tuple[int, int, int]]:
    """``num_classes`` RGB colours from a list, a named colour, or the default (DOTA colours first)."""
    if isinstance(palette, str):
        return [_NAMED[palette]] * num_classes
    if palette is not None and len(palette) >= num_classes:
        return [tuple(int(c) for c in p) for p in palette[:num_classes]]
    return [tuple(int(c) for c in p) for p in make_palette(num_classes)]


def rboxes_to_polys(rboxes: np.ndarray) -> np.ndarray:
    """``(N, 5)`` ``(cx, cy, w, h, t)`` radians → ``(N, 8)`` corners (same formula as ``rbox2poly``)."""
    rboxes = np.asarray(rboxes, np.float64).reshape(-1, 5)
    cx, cy, w, h, t = rboxes.T
    c, s = np.cos(t), np.sin(t)
    ux, uy = w / 2 * c, w / 2 * s
    vx, vy = -h / 2 * s, h / 2 * c
    return np.stack([cx + ux + vx, cy + uy + vy, cx + ux - vx, cy + uy - vy,
                     cx - ux - vx, cy - uy - vy, cx - ux + vx, cy - uy + vy], 1)


def auto_line_width(height: int, width: int) -> int:
    """Box line width in pixels for an image: 2 px on 1024 px patches, ~17 px on 10k scenes."""
    return max(2, int(round(max(height, width) / 600)))


def _np(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().float().cpu().numpy()
    return np.asarray(x)


def _text_color(rgb) -> tuple:
    lum = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    return (0, 0, 0) if lum > 150 else (255, 255, 255)


@VISUALIZERS.register_module()
class DetLocalVisualizer(Visualizer):
    """Detection visualizer drawing hboxes / rboxes / polygons with OpenCV (see module docstring).

    Args:
        name: instance name (``Visualizer.get_instance``).
        image: optional RGB image to start with.
        vis_backends, save_dir: as :class:`mmengine.visualization.Visualizer`.
        bbox_color: one colour for all boxes, or None for per-class colours (``palette`` of the
            dataset meta, else the DOTA colours followed by spread hues).
        text_color: label text colour; None picks black/white by the box colour's luminance.
        line_width: fixed box line width in pixels; None scales with the image size.
        font_scale: multiplier of the automatic label size.
        draw_labels: write ``class score`` labels.
        alpha: mmdet's mask transparency, accepted for its configs and unused (no masks are drawn).

    >>> vis = DetLocalVisualizer(name='doc')
    >>> img = vis.draw_instances(np.zeros((64, 64, 3), np.uint8), dict(
    ...     bboxes=np.array([[32, 32, 40, 10, 0.5]]), labels=np.array([0])), classes=('plane',))
    >>> img.shape
    (64, 64, 3)
    """

    def __init__(self, name: str = 'visualizer', image: Optional[np.ndarray] = None,
                 vis_backends: Optional[list] = None, save_dir: Optional[str] = None,
                 bbox_color: ColorLike = None, text_color: ColorLike = None,
                 line_width: Optional[int] = None, font_scale: float = 1.0, draw_labels: bool = True,
                 alpha: float = 0.8):
        super().__init__(name=name, image=None, vis_backends=vis_backends, save_dir=save_dir)
        self.bbox_color = bbox_color
        self.text_color = text_color
        self.line_width = line_width
        self.font_scale = font_scale
        self.draw_labels = draw_labels
        del alpha  # mmdet's mask transparency: accepted for its configs, nothing here draws masks
        if image is not None:
            self.set_image(image)

    # ------------------------------------------------------------------ canvas
    def set_image(self, image: np.ndarray) -> None:
        """Set the RGB uint8 image to draw on (a copy is kept; no matplotlib figure is built)."""
        assert image is not None
        image = np.asarray(image)
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        self._image = np.ascontiguousarray(image[..., :3].astype(np.uint8, copy=True))
        self.height, self.width = self._image.shape[:2]
        self._default_font_size = max(np.sqrt(self.height * self.width) // 90, 10)

    def get_image(self) -> np.ndarray:
        """The drawn RGB image."""
        assert self._image is not None, 'call set_image first'
        return self._image

    def _lw(self, line_widths=None) -> int:
        if line_widths is not None:
            return int(max(1, np.max(_np(line_widths))))
        if self.line_width is not None:
            return int(self.line_width)
        return auto_line_width(self.height, self.width)

    @staticmethod
    def _colors(colors, n: int) -> list[tuple]:
        if colors is None:
            return [(255, 0, 0)] * n
        if isinstance(colors, str):
            return [_NAMED[colors]] * n
        if len(colors) and isinstance(colors[0], (int, np.integer, float)):
            return [tuple(int(c) for c in colors)] * n
        out = [_NAMED[c] if isinstance(c, str) else tuple(int(v) for v in c) for c in colors]
        return (out * (n // max(len(out), 1) + 1))[:n]

    # ------------------------------------------------------------------ primitives
    def draw_bboxes(self, bboxes, edge_colors=None, line_styles='-', line_widths=None,
                    face_colors='none', alpha=1.0) -> DetLocalVisualizer:
        """Draw horizontal boxes ``(N, 4)`` xyxy."""
        b = _np(bboxes).reshape(-1, 4)
        x0, y0, x1, y1 = b.T
        polys = np.stack([x0, y0, x1, y0, x1, y1, x0, y1], 1)
        return self.draw_polygons(polys, edge_colors=edge_colors, line_widths=line_widths)

    def draw_rboxes(self, rboxes, edge_colors=None, line_widths=None) -> DetLocalVisualizer:
        """Draw rotated boxes ``(N, 5)`` ``(cx, cy, w, h, t)``, t in radians."""
        return self.draw_polygons(rboxes_to_polys(_np(rboxes)), edge_colors=edge_colors,
                                  line_widths=line_widths)

    def draw_polygons(self, polygons, edge_colors=None, line_styles='-', line_widths=None,
                      face_colors='none', alpha=1.0) -> DetLocalVisualizer:
        """Draw closed polygons: an ``(N, 2K)`` array or a list of ``(K, 2)`` arrays."""
        if isinstance(polygons, (list, tuple)):
            polys = [_np(p).reshape(-1, 2) for p in polygons]
        else:
            arr = _np(polygons)
            polys = [p.reshape(-1, 2) for p in arr.reshape(len(arr), -1)] if arr.size else []
        colors = self._colors(edge_colors, len(polys))
        lw = self._lw(line_widths)
        # 4 bits of sub-pixel precision keep small boxes on big images in place
        for p, c in zip(polys, colors):
            if not np.isfinite(p).all():
                continue
            pts = np.round(p * 16).astype(np.int64).reshape(-1, 1, 2)
            cv2.polylines(self._image, [pts.astype(np.int32)], True, c, lw, cv2.LINE_AA, shift=4)
        return self

    def _font(self, font_sizes=None) -> tuple[float, int]:
        if font_sizes is not None:
            px = float(np.max(_np(font_sizes)))
        else:
            px = max(12.0, max(self.height, self.width) / 200.0) * self.font_scale
        scale = px / 22.0  # HERSHEY_SIMPLEX at scale 1 is ~22 px tall
        return scale, max(1, int(round(scale * 1.5)))

    def draw_texts(self, texts, positions, font_sizes=None, colors=None, vertical_alignments='top',
                   horizontal_alignments='left', font_families=None, bboxes=None,
                   font_properties=None) -> DetLocalVisualizer:
        """Write ``texts`` with their top-left corner at ``positions`` ``(N, 2)``.

        ``bboxes``: background colours (one per text or one for all), or None for no background.
        """
        if isinstance(texts, str):
            texts = [texts]
        pos = _np(positions).reshape(-1, 2)
        scale, thick = self._font(font_sizes)
        bgs = self._colors(bboxes, len(texts)) if bboxes is not None else [None] * len(texts)
        fgs = self._colors(colors, len(texts)) if colors is not None else \
            [_text_color(bg) if bg is not None else (255, 255, 255) for bg in bgs]
        font = cv2.FONT_HERSHEY_SIMPLEX
        for text, (x, y), fg, bg in zip(texts, pos, fgs, bgs):
            (tw, th), base = cv2.getTextSize(text, font, scale, thick)
            x = int(np.clip(x, 0, max(self.width - tw, 0)))
            y = int(np.clip(y, 0, max(self.height - th - base, 0)))
            if bg is not None:
                cv2.rectangle(self._image, (x, y), (x + tw + 2, y + th + base), bg, -1)
            cv2.putText(self._image, text, (x + 1, y + th), font, scale, fg, thick, cv2.LINE_AA)
        return self

    # ------------------------------------------------------------------ instances
    def draw_instances(self, image: np.ndarray, instances, classes: Optional[Sequence[str]] = None,
                       palette=None, score_thr: float = 0.0, channel_order: str = 'rgb') -> np.ndarray:
        """Draw ``instances`` (InstanceData or dict: ``bboxes`` (N, 4|5|8), ``labels``, optional
        ``scores``) on a copy of ``image``; return the drawn image.

        ``channel_order='bgr'`` draws on a BGR image (OpenCV's order; the palette stays RGB) and
        returns BGR: large scenes are then drawn and written with a single copy.
        """
        if channel_order not in ('rgb', 'bgr'):
            raise ValueError(f"channel_order={channel_order!r}; expected 'rgb' or 'bgr'")
        self.set_image(image)
        get = instances.get if hasattr(instances, 'get') else (lambda k, d=None: getattr(instances, k, d))
        bboxes = get('bboxes', None)
        if bboxes is None or len(bboxes) == 0:
            return self.get_image()
        boxes = _np(bboxes)
        boxes = boxes.reshape(len(boxes), -1)
        labels = _np(get('labels', np.zeros(len(boxes)))).astype(np.int64).reshape(-1)
        scores = get('scores', None)
        scores = None if scores is None else _np(scores).reshape(-1)
        if scores is not None and score_thr > 0:
            keep = scores >= score_thr
            boxes, labels, scores = boxes[keep], labels[keep], scores[keep]
        if not len(boxes):
            return self.get_image()
        dim = boxes.shape[1]
        if dim == 4:
            x0, y0, x1, y1 = boxes.T
            polys = np.stack([x0, y0, x1, y0, x1, y1, x0, y1], 1)
        elif dim == 5:
            polys = rboxes_to_polys(boxes)
        elif dim == 8:
            polys = boxes
        else:
            raise ValueError(f'boxes of shape {boxes.shape}; expected (N, 4) xyxy, (N, 5) rboxes or (N, 8) polygons')
        classes = list(classes) if classes is not None else []
        n_cls = max(len(classes), int(labels.max()) + 1 if len(labels) else 1)
        pal = get_palette(palette if palette is not None else self.bbox_color, n_cls)
        colors = [pal[lb % len(pal)] for lb in labels]
        fixed_fg = None if self.text_color is None else self._colors(self.text_color, 1)[0]
        fgs = [fixed_fg or _text_color(c) for c in colors]  # chosen on the RGB colour
        if channel_order == 'bgr':
            colors = [tuple(c[::-1]) for c in colors]
            fgs = [tuple(c[::-1]) for c in fgs]
        # draw low scores first so confident boxes stay on top
        order = np.argsort(scores, kind='stable') if scores is not None else np.arange(len(boxes))
        self.draw_polygons(polys[order], edge_colors=[colors[i] for i in order])
        if self.draw_labels:
            pts = polys.reshape(len(polys), -1, 2)
            # label box sits on the box's top-left bounding corner, just above the line
            x_min, y_min = pts[:, :, 0].min(1), pts[:, :, 1].min(1)
            scale, thick = self._font()
            (_, th), base = cv2.getTextSize('Ag', cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
            lift = th + base + self._lw() / 2
            texts, positions, bgs, fg = [], [], [], []
            for i in order:
                name = classes[labels[i]] if labels[i] < len(classes) else f'class {labels[i]}'
                texts.append(name if scores is None else f'{name} {scores[i]:.2f}')
                positions.append((x_min[i] - self._lw() / 2, y_min[i] - lift))
                bgs.append(colors[i])
                fg.append(fgs[i])
            self.draw_texts(texts, np.array(positions), bboxes=bgs, colors=fg)
        return self.get_image()

    def add_datasample(self, name: str, image: np.ndarray, data_sample=None, draw_gt: bool = True,
                       draw_pred: bool = True, show: bool = False, wait_time: float = 0,
                       out_file: Optional[str] = None, pred_score_thr: float = 0.3, step: int = 0) -> None:
        """Draw ground truth (left) and predictions (right) of ``data_sample`` on ``image`` (RGB).

        Writes ``out_file`` (PNG/JPG) when given, else sends the image to the vis backends.
        """
        meta = self.dataset_meta or {}
        classes = meta.get('classes')
        palette = meta.get('palette')
        panels = []
        if data_sample is not None:
            if draw_gt and 'gt_instances' in data_sample:
                panels.append(self.draw_instances(image, data_sample.gt_instances, classes, palette))
            if draw_pred and 'pred_instances' in data_sample:
                panels.append(self.draw_instances(image, data_sample.pred_instances, classes, palette,
                                                  score_thr=pred_score_thr))
        drawn = np.concatenate(panels, axis=1) if panels else np.ascontiguousarray(image[..., :3], np.uint8)
        self.set_image(drawn)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            save_rgb(out_file, drawn)
        else:
            self.add_image(name, drawn, step)


def save_rgb(path: str, image: np.ndarray, channel_order: str = 'rgb') -> None:
    """Write an RGB (or ``channel_order='bgr'``) image with OpenCV (PNG compression 3: quick
    on large scenes)."""
    d = osp.dirname(osp.abspath(path))
    os.makedirs(d, exist_ok=True)
    params = [cv2.IMWRITE_PNG_COMPRESSION, 3] if path.lower().endswith('.png') else []
    bgr = image if channel_order == 'bgr' else image[..., ::-1]
    if not cv2.imwrite(path, np.ascontiguousarray(bgr), params):
        raise OSError(f'cannot write image {path}')

