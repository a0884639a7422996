"""Detection data preprocessor: uint8 images → normalised, padded float batch (+ batch metainfo)."""
from __future__ import annotations

import math
from typing import Optional, Sequence, Union

import torch
from mmengine.model import ImgDataPreprocessor

from rotated_ld.registry import MODELS


@MODELS.register_module()
class DetDataPreprocessor(ImgDataPreprocessor):
    """Stack a list of ``(3, H, W)`` uint8 images into a ``(B, 3, H_pad, W_pad)`` float batch.

    Steps (as mmdet 3): move to the model's device, optional BGR→RGB, ``(x - mean) / std``, pad
    bottom/right with ``pad_value`` to a common size divisible by ``pad_size_divisor``, then write
    ``batch_input_shape`` (padded batch (h, w)) and ``pad_shape`` (this image padded to the
    divisor) into every data sample's metainfo; in training, optional ``batch_augments``.

    Args:
        mean, std: per-channel values in the channel order AFTER the optional BGR→RGB swap.
        pad_size_divisor: pad H and W up to a multiple of this (32 for 5-level FPNs with stride 128
            works fine since the heads use ceil-mode feature sizes).
        pad_value: value of padded pixels (after normalisation, as mmdet).
        bgr_to_rgb / rgb_to_bgr: channel swap.
        batch_augments: list of config dicts of callables ``(inputs, data_samples) -> (inputs,
            data_samples)`` run in training only; ``None`` (default) for none.
    """

    def __init__(self, mean: Optional[Sequence[float]] = None, std: Optional[Sequence[float]] = None,
                 pad_size_divisor: int = 1, pad_value: Union[float, int] = 0, bgr_to_rgb: bool = False,
                 rgb_to_bgr: bool = False, non_blocking: bool = False,
                 batch_augments: Optional[list] = None, **kwargs):
        if kwargs:
            unknown = set(kwargs) - {'boxtype2tensor', 'pad_mask', 'pad_seg', 'mask_pad_value',
                                     'seg_pad_value'}
            if unknown:
                raise TypeError(f'DetDataPreprocessor: unknown arguments {sorted(unknown)}')
        super().__init__(mean=mean, std=std, pad_size_divisor=pad_size_divisor, pad_value=pad_value,
                         bgr_to_rgb=bgr_to_rgb, rgb_to_bgr=rgb_to_bgr, non_blocking=non_blocking)
        self.bgr_to_rgb = bgr_to_rgb
        self.batch_augments = [MODELS.build(a) if isinstance(a, dict) else a for a in (batch_augments or [])]

    def _pad_shapes(self, inputs) -> list[tuple[int, int]]:
        d = self.pad_size_divisor
        if isinstance(inputs, torch.Tensor):
            h, w = inputs.shape[-2:]
            return [(int(math.ceil(h / d) * d), int(math.ceil(w / d) * d))] * inputs.shape[0]
        return [(int(math.ceil(x.shape[-2] / d) * d), int(math.ceil(x.shape[-1] / d) * d)) for x in inputs]

    def forward(self, data: dict, training: bool = False) -> dict:
        """``dict(inputs=list[(3,H,W)] | (B,3,H,W), data_samples=list|None)`` → same keys, stacked."""
        pad_shapes = self._pad_shapes(data['inputs'])
        data = super().forward(data, training)
        inputs, data_samples = data['inputs'], data['data_samples']
        if data_samples is not None:
            batch_input_shape = tuple(inputs.shape[-2:])
            for s, pad_shape in zip(data_samples, pad_shapes):
                s.set_metainfo({'batch_input_shape': batch_input_shape, 'pad_shape': pad_shape})
        if training and self.batch_augments:
            for aug in self.batch_augments:
                inputs, data_samples = aug(inputs, data_samples)
        return dict(inputs=inputs, data_samples=data_samples)
