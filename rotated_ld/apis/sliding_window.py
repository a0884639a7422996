"""Sliding-window inference on large scenes (DOTA-style split → detect → merge).

Steps:

1. windows are placed exactly as the split tool does
   (:func:`rotated_ld.datasets.split.get_sliding_windows`, mmrotate 1.x rules): per rate ``r`` the
   window is ``int(patch_size / r)`` px with gap ``int(gap / r)`` on the unscaled scene; windows
   that reach past the scene are padded with ``padding_value`` (the split tool's default), so
   the test pipeline's resize brings every window to ``patch_size`` — i.e. the model sees the
   scene at scale ``r``, as it saw the split training patches;
2. tiles are read one batch at a time from a :class:`SceneReader` (a view into a uint8 array /
   ``np.memmap`` / ``.npy`` file opened with ``mmap_mode='r'``; other formats are decoded once
   as uint8 by OpenCV). No float copy of the scene is ever made: only the batch of tiles goes
   through the pipeline and the data preprocessor. With ``prefetch`` (default on GPU) a background
   thread reads and resizes the next batch while the current one is in the forward pass (torch
   and OpenCV release the GIL), so at most two batches of tiles are in memory. On CPU the model
   runs in NHWC (``channels_last``), where oneDNN's forward convolutions are faster;
3. tile detections are merged with :func:`rotated_ld.evaluation.functional.merge_results` — the
   same code as the DOTA metric's patch merge (offset by the window origin via the patch name
   ``scene__{size}__{x}___{y}``, then per-class rotated NMS, IoU ``> iou_threshold`` suppressed).

Horizontal-box models work too: their boxes are merged as rotated boxes with angle 0 and
returned as ``(K, 4)`` xyxy.
"""
from __future__ import annotations

import os.path as osp
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from typing import Optional, Sequence, Union

import cv2
import numpy as np
import torch
import torch.nn as nn
from mmengine.structures import InstanceData
from tqdm import tqdm

from rotated_ld.datasets.dota_patch_name import format_patch_name
from rotated_ld.datasets.split import get_sliding_windows, image_file_problem
from rotated_ld.evaluation.functional.merge import merge_results
from rotated_ld.structures import DetDataSample

from .inference import prepare_batch, run_batch

__all__ = ['SceneReader', 'inference_detector_by_patches', 'scene_windows']

_SCENE = 'scene'  # image id used in patch names; parse_patch_name anchors on the trailing tokens


class SceneReader:
    """Random access to tiles of a large BGR uint8 scene.

    Args:
        source: a path (``.npy`` files are memory-mapped, other formats decoded once as uint8 by
            OpenCV) or an ``(H, W, 3)`` / ``(H, W)`` uint8 array (``np.memmap`` welcome: tiles are
            sliced lazily).

    ``read(x0, y0, x1, y1, pad_value)`` returns the window ``[y0:y1, x0:x1]`` as a new
    ``(y1 - y0, x1 - x0, 3)`` uint8 array, padded where it leaves the scene.
    """

    def __init__(self, source: Union[str, np.ndarray]):
        self.path: Optional[str] = None
        if isinstance(source, np.ndarray):
            arr = source
        else:
            path = str(source)
            self.path = path
            if not osp.isfile(path):
                raise FileNotFoundError(f'image not found: {path}')
            if path.lower().endswith('.npy'):
                try:
                    arr = np.load(path, mmap_mode='r')
                except ValueError as e:
                    raise OSError(f'cannot read image {path}: {e}') from None
            else:
                problem = image_file_problem(path)  # OpenCV would decode a truncated JPEG grey
                if problem:
                    raise OSError(f'cannot read image {path}: {problem}')
                arr = cv2.imread(path, cv2.IMREAD_COLOR)
                if arr is None:
                    raise OSError(f'cannot read image {path} (not an image, or a format OpenCV cannot decode)')
        if arr.dtype != np.uint8 or arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
            raise ValueError(f'scene must be uint8 (H, W[, 3]), got {arr.dtype} {arr.shape}')
        self._arr = arr
        self.height, self.width = int(arr.shape[0]), int(arr.shape[1])

    @property
    def shape(self) -> tuple[int, int]:
        return self.height, self.width

    def full(self) -> np.ndarray:
        """The whole scene as ``(H, W, 3)`` uint8 BGR: the source array itself when it is one
        (no copy), else a 3-channel conversion."""
        arr = self._arr
        if arr.ndim == 3 and arr.shape[2] == 3:
            return arr
        return self.read(0, 0, self.width, self.height)

    def read(self, x0: int, y0: int, x1: int, y1: int, pad_value: Sequence[int] = (104, 116, 124)) -> np.ndarray:
        """BGR uint8 tile ``(y1 - y0, x1 - x0, 3)``, padded outside the scene."""
        tile = np.empty((y1 - y0, x1 - x0, 3), np.uint8)
        tile[...] = np.asarray(pad_value, np.uint8)
        cx0, cy0 = max(x0, 0), max(y0, 0)
        cx1, cy1 = min(x1, self.width), min(y1, self.height)
        if cx1 > cx0 and cy1 > cy0:
            part = np.asarray(self._arr[cy0:cy1, cx0:cx1])
            if part.ndim == 2:
                part = part[..., None]
            if part.shape[2] == 1:
                part = np.repeat(part, 3, axis=2)
            tile[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0] = part[..., :3]
        return tile


def scene_windows(height: int, width: int, patch_size: int = 1024, gap: int = 200,
                  rates: Sequence[float] = (1.0,), img_rate_thr: float = 0.6) -> np.ndarray:
    """Windows ``(K, 4)`` int64 ``x0, y0, x1, y1`` of the split tool for a scene (see module doc)."""
    if not 0 <= gap < patch_size:
        raise ValueError(f'gap={gap} must be in [0, patch_size={patch_size})')
    if any(float(r) <= 0 for r in rates):
        raise ValueError(f'rates={tuple(rates)} must be > 0')
    sizes = [int(patch_size / r) for r in rates]
    gaps = [int(gap / r) for r in rates]
    return get_sliding_windows(width, height, sizes, gaps, img_rate_thr)


def _nms_iou(nms_cfg: Optional[dict]) -> Optional[float]:
    if nms_cfg is None:
        return None
    if isinstance(nms_cfg, (int, float)):
        return float(nms_cfg)
    for key in ('iou_threshold', 'iou_thr'):
        if key in nms_cfg:
            return None if nms_cfg[key] is None else float(nms_cfg[key])
    raise ValueError(f'nms_cfg={nms_cfg!r} needs iou_threshold')


def inference_detector_by_patches(model: nn.Module, image: Union[str, np.ndarray, SceneReader],
                                  patch_size: int = 1024, gap: int = 200, rates: Sequence[float] = (1.0,),
                                  batch_size: int = 4, score_thr: Optional[float] = None,
                                  nms_cfg: Optional[dict] = None, max_per_img: Optional[int] = None,
                                  img_rate_thr: float = 0.6,
                                  padding_value: Sequence[int] = (104, 116, 124), progress: bool = True,
                                  prefetch: Optional[bool] = None, channels_last: Optional[bool] = None):
    """Detect on a large scene tile by tile and merge (see the module docstring).

    Args:
        model: detector from :func:`~rotated_ld.apis.init_detector`.
        image: scene path, BGR uint8 array (``np.memmap`` ok) or :class:`SceneReader`.
        patch_size, gap: window size and overlap in pixels at rate 1 (split tool's ``--sizes``,
            ``--gaps``); ``gap`` should exceed the largest object so every object lies whole in
            at least one window.
        rates: scales (multi-scale test as the ms split: window ``patch_size / r``).
        batch_size: tiles per forward pass.
        score_thr: drop tile detections below this score before merging (None: the model's own
            ``test_cfg.score_thr`` only).
        nms_cfg: ``dict(type='nms_rotated', iou_threshold=0.1)`` (default, DOTA_devkit's merge);
            ``{}`` is the default too; pass ``dict(iou_threshold=None)`` or ``False`` for no NMS.
        max_per_img: keep the best ``max_per_img`` detections after merging.
        img_rate_thr: drop windows whose scene-covered fraction is ``<= img_rate_thr``.
        padding_value: BGR fill of window parts outside the scene.
        progress: tqdm bar over tiles.
        prefetch: prepare the next batch of tiles (read, pad, resize, pack) in a background
            thread during the forward pass of the current one. Same detections either way.
            ``None`` (default): when the model is not on the CPU — on CPU the forward dominates
            (~10 ms of preparation against ~0.4 s of forward per tile for the demo student) and
            the thread cost 5-9 % tiles/s in ``benchmarks/bench_tiled_infer.py``.
        channels_last: convert the model's 4-d weights to ``torch.channels_last`` (in place; the
            model stays usable and its outputs change only by float reassociation). ``None``
            (default): when the model is on the CPU.

    Returns:
        DetDataSample: ``pred_instances`` (``bboxes`` ``(K, 5)`` rboxes — or ``(K, 4)`` for
        horizontal models — ``scores``, ``labels``) in scene pixels, sorted by score; metainfo
        ``img_path``, ``ori_shape``, ``num_tiles``, ``windows`` ``(T, 4)``, ``merge_stats``.
    """
    reader = image if isinstance(image, SceneReader) else SceneReader(image)
    iou = 0.1 if nms_cfg is None or nms_cfg == {} else (None if nms_cfg is False else _nms_iou(nms_cfg))
    windows = scene_windows(reader.height, reader.width, patch_size, gap, rates, img_rate_thr)
    on_cpu = next(model.parameters()).device.type == 'cpu'
    if channels_last is None:
        channels_last = on_cpu
    if prefetch is None:
        prefetch = not on_cpu
    if channels_last:
        model.to(memory_format=torch.channels_last)
    step = max(1, int(batch_size))
    batches = [windows[s:s + step].tolist() for s in range(0, len(windows), step)]

    def prepare(wins: list) -> tuple[list, dict]:
        tiles = [reader.read(x0, y0, x1, y1, padding_value) for x0, y0, x1, y1 in wins]
        ids = [format_patch_name(_SCENE, x0, y0, size=x1 - x0) for x0, y0, x1, _ in wins]
        return ids, prepare_batch(model, tiles, ids)

    names, results = [], []
    box_dim = None
    desc = osp.basename(reader.path) if reader.path else 'scene'
    with ThreadPoolExecutor(1, thread_name_prefix='tile-prefetch') if prefetch else nullcontext() as pool, \
            tqdm(total=len(windows), desc=desc, unit='tile', disable=not progress, leave=False) as bar:

        def submit(wins: list) -> Future:
            if pool is not None:
                return pool.submit(prepare, wins)
            done: Future = Future()
            done.set_result(prepare(wins))
            return done

        pending = submit(batches[0]) if batches else None
        for i in range(len(batches)):
            ids, batch = pending.result()
            pending = submit(batches[i + 1]) if i + 1 < len(batches) else None
            samples = run_batch(model, batch)
            del batch
            for name, sample in zip(ids, samples):
                pred = sample.pred_instances
                boxes = pred.bboxes.detach().float().cpu().numpy()
                scores = pred.scores.detach().float().cpu().numpy()
                labels = pred.labels.detach().cpu().numpy()
                if boxes.size:
                    boxes = boxes.reshape(len(boxes), -1)
                    box_dim = boxes.shape[1]
                    if box_dim == 4:  # xyxy -> (cx, cy, w, h, 0) for the rotated merge
                        boxes = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2,
                                          boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1],
                                          np.zeros(len(boxes))], 1)
                    if score_thr is not None:
                        keep = scores >= score_thr
                        boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
                names.append(name)
                results.append(dict(bboxes=boxes, scores=scores, labels=labels))
            bar.update(len(ids))
    merged, stats = merge_results(names, results, iou_thr=iou if iou is not None else 0.0, nms=iou is not None)
    out = merged.get(_SCENE, dict(bboxes=np.zeros((0, 5)), scores=np.zeros(0), labels=np.zeros(0, np.int64)))
    boxes, scores, labels = out['bboxes'], out['scores'], out['labels']
    if boxes.shape[-1] == 8:
        raise ValueError('the model returned polygons; sliding-window inference expects (K, 4|5) boxes')
    order = np.argsort(-scores, kind='stable')
    if max_per_img is not None:
        order = order[:max_per_img]
    boxes, scores, labels = boxes[order], scores[order], labels[order]
    if box_dim == 4:
        boxes = np.stack([boxes[:, 0] - boxes[:, 2] / 2, boxes[:, 1] - boxes[:, 3] / 2,
                          boxes[:, 0] + boxes[:, 2] / 2, boxes[:, 1] + boxes[:, 3] / 2], 1)
    inst = InstanceData()
    boxes = np.asarray(boxes, np.float32)
    inst.bboxes = torch.as_tensor(boxes if boxes.ndim == 2 else boxes.reshape(-1, box_dim or 5))
    inst.scores = torch.as_tensor(np.asarray(scores, np.float32))
    inst.labels = torch.as_tensor(np.asarray(labels, np.int64))
    sample = DetDataSample(metainfo=dict(img_path=reader.path, img_id=desc, ori_shape=reader.shape,
                                         img_shape=reader.shape, num_tiles=len(windows), windows=windows,
                                         merge_stats=dict(stats)))
    sample.pred_instances = inst
    return sample
