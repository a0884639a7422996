"""Single-stage detector: backbone → neck → dense head (mmdet-3 API on MMEngine's BaseModel)."""
from __future__ import annotations

from typing import Optional, Union

import torch.nn as nn
from mmengine.model import BaseModel
from torch import Tensor

from rotated_ld.registry import MODELS


def _build(cfg: Union[dict, nn.Module, None]) -> Optional[nn.Module]:
    if cfg is None or isinstance(cfg, nn.Module):
        return cfg
    return MODELS.build(cfg)


@MODELS.register_module()
class SingleStageDetector(BaseModel):
    """Dense single-stage detector (GFL, LD students, rotated GFL).

    Args:
        backbone, neck, bbox_head: config dicts (or modules).
        train_cfg / test_cfg: handed to the head as its ``train_cfg`` / ``test_cfg``.
        data_preprocessor: e.g. ``dict(type='DetDataPreprocessor', mean=..., std=...,
            bgr_to_rgb=True, pad_size_divisor=32)``.

    ``forward(inputs, data_samples, mode)``:
        ``'loss'``    → dict of losses (``loss_*`` terms + log-only tensors);
        ``'predict'`` → the data samples with ``pred_instances`` (``bboxes``, ``scores``,
        ``labels``) in ORIGINAL image coordinates (rescaled by ``scale_factor``);
        ``'tensor'``  → raw head outputs, a tuple of per-level lists.
    """

    def __init__(self, backbone: dict, neck: Optional[dict] = None, bbox_head: Optional[dict] = None,
                 train_cfg: Optional[dict] = None, test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None):
        # built here with our registry so the model builds without a default scope, too
        super().__init__(data_preprocessor=_build(data_preprocessor), init_cfg=init_cfg)
        self.backbone = _build(backbone)
        self.neck = _build(neck)
        if bbox_head is None:
            raise ValueError('SingleStageDetector needs a bbox_head')
        if isinstance(bbox_head, dict):
            bbox_head = dict(bbox_head)
            bbox_head.update(train_cfg=train_cfg, test_cfg=test_cfg)
        self.bbox_head = _build(bbox_head)
        self.train_cfg, self.test_cfg = train_cfg, test_cfg

    @property
    def with_neck(self) -> bool:
        return self.neck is not None

    def extract_feat(self, inputs: Tensor) -> tuple[Tensor, ...]:
        """``(B, 3, H, W)`` → tuple of per-level features ``(B, C, H_l, W_l)``."""
        x = self.backbone(inputs)
        if self.with_neck:
            x = self.neck(x)
        return tuple(x)

    def forward(self, inputs: Tensor, data_samples: Optional[list] = None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        raise ValueError(f"mode={mode!r}; expected 'loss', 'predict' or 'tensor'")

    def loss(self, inputs: Tensor, data_samples: list) -> dict:
        return self.bbox_head.loss(self.extract_feat(inputs), data_samples)

    def predict(self, inputs: Tensor, data_samples: list, rescale: bool = True) -> list:
        results = self.bbox_head.predict(self.extract_feat(inputs), data_samples, rescale=rescale)
        for sample, res in zip(data_samples, results):
            sample.pred_instances = res
        return data_samples

    def _forward(self, inputs: Tensor, data_samples: Optional[list] = None):
        return self.bbox_head(self.extract_feat(inputs))
