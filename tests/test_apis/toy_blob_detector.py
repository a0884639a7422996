"""A tiny deterministic 'detector' for the apis/tools tests: bright blobs → rotated boxes.

It has real weights (a conv whose mean scales the scores, so checkpoints matter) and a real
image → box path (threshold + ``cv2.minAreaRect`` on the tile it is given), so sliding-window
tests exercise tiling, coordinates and the merge end to end. A blob touching the tile border is
truncated: it scores ``0.4 ×`` lower (whole blobs score in (0.5, 1), cut ones < 0.4), as a
real detector scores a cut object lower.
"""
import math
import os.path as osp

import cv2
import numpy as np
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.structures import InstanceData

from rotated_ld.registry import MODELS

HERE = osp.dirname(osp.abspath(__file__))


@MODELS.register_module()
class ToyBlobDetector(BaseModel):
    """Rotated boxes ``(cx, cy, w, h, t)`` of pixels brighter than ``thr`` (label 0)."""

    def __init__(self, feat_channels: int = 4, thr: float = 200.0, data_preprocessor=None, init_cfg=None):
        super().__init__(data_preprocessor=MODELS.build(data_preprocessor) if isinstance(data_preprocessor, dict)
                         else data_preprocessor, init_cfg=init_cfg)
        self.conv = nn.Conv2d(3, feat_channels, 3, padding=1)
        self.bn = nn.BatchNorm2d(feat_channels)
        self.thr = thr
        self.num_classes = 1

    def forward(self, inputs, data_samples=None, mode='tensor'):
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'loss':
            return dict(loss_toy=self.bn(self.conv(inputs)).mean() ** 2)
        return self.bn(self.conv(inputs))

    def predict(self, inputs, data_samples):
        self.bn(self.conv(inputs[:, :, :8, :8]))  # touch the weights (fuse_conv_bn / benchmark)
        base = 0.5 + 0.5 * torch.sigmoid(self.conv.weight.mean() * 100).item()  # in (0.5, 1)
        for img, sample in zip(inputs, data_samples):
            h, w = sample.img_shape
            mask = (img[:, :h, :w].mean(0) > self.thr).cpu().numpy().astype(np.uint8)
            contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            boxes, scores = [], []
            for c in contours:
                (cx, cy), (bw, bh), ang = cv2.minAreaRect(c)
                x, y, cw, ch = cv2.boundingRect(c)
                cut = x == 0 or y == 0 or x + cw >= w or y + ch >= h
                # minAreaRect measures pixel centres: a filled k-px run spans k - 1
                boxes.append([cx + 0.5, cy + 0.5, bw + 1, bh + 1, math.radians(ang)])
                scores.append(base * (0.4 if cut else 1.0))
            sx, sy = sample.metainfo.get('scale_factor', (1.0, 1.0))
            b = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 5)
            b[:, [0, 2]] /= sx
            b[:, [1, 3]] /= sy
            inst = InstanceData()
            inst.bboxes = b
            inst.scores = torch.tensor(scores, dtype=torch.float32)
            inst.labels = torch.zeros(len(b), dtype=torch.long)
            sample.pred_instances = inst
        return data_samples


@MODELS.register_module()
class ToyOtherNet(BaseModel):
    """Another architecture (different weight names) for the wrong-checkpoint tests."""

    def __init__(self, data_preprocessor=None, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.fc = nn.Linear(3, 2)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return self.fc(inputs)


def toy_config_text(patch: int = 256, feat_channels: int = 4, model_type: str = 'ToyBlobDetector') -> str:
    """Config file text of the toy detector (resize to ``patch``, as a DOTA test pipeline)."""
    extra = f' feat_channels={feat_channels},' if model_type == 'ToyBlobDetector' else ''
    return f"""
default_scope = 'rotated_ld'
custom_imports = dict(imports=['toy_blob_detector'], allow_failed_imports=False)
model = dict(type='{model_type}',{extra}
             data_preprocessor=dict(type='DetDataPreprocessor', mean=[0, 0, 0], std=[1, 1, 1],
                                    pad_size_divisor=32))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RResize', scale=({patch}, {patch}), keep_ratio=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
test_dataloader = dict(batch_size=1, num_workers=0, dataset=dict(type='ToyNone', pipeline=test_pipeline,
                       metainfo=dict(classes=('blob',))))
"""


def write_toy(tmp_path, name: str = 'toy_cfg.py', **kw) -> str:
    """Write the toy config next to a copy-free import path; returns the config path."""
    import sys

    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    path = osp.join(str(tmp_path), name)
    with open(path, 'w') as f:
        f.write(toy_config_text(**kw))
    return path


def draw_scene(h: int, w: int, rects) -> np.ndarray:
    """Dark BGR scene with white axis-aligned rectangles ``(x0, y0, x1, y1)`` (exclusive ends)."""
    img = np.full((h, w, 3), 40, np.uint8)
    for x0, y0, x1, y1 in rects:
        img[y0:y1, x0:x1] = 255
    return img


from mmengine.evaluator import BaseMetric  # noqa: E402

from rotated_ld.registry import METRICS  # noqa: E402


@METRICS.register_module()
class ToyCountMetric(BaseMetric):
    """Counts predictions (lets tools/test.py run the toy detector end to end)."""

    def process(self, data_batch, data_samples):
        for d in data_samples:
            self.results.append(len(d['pred_instances']['bboxes']))

    def compute_metrics(self, results):
        return dict(num_dets=float(sum(results)))
