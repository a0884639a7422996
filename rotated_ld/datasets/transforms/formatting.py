"""``PackDetInputs``: the last pipeline step, ``results`` -> ``dict(inputs, data_samples)``."""
from __future__ import annotations

import numpy as np
import torch
from mmengine.structures import InstanceData

from ...registry import TRANSFORMS
from ...structures import DetDataSample


@TRANSFORMS.register_module()
class PackDetInputs:
    """Pack the image and annotations for the model.

    ``inputs``: uint8 (or float) tensor (C, H, W) (a grey image gets C = 1). ``data_samples``:
    :class:`DetDataSample` with ``gt_instances`` (objects whose ``gt_ignore_flags`` is False) and
    ``ignored_instances`` (difficult / crowd), each with ``bboxes`` float32 (N, 4|5|8) and
    ``labels`` int64 (N,), when the pipeline loaded annotations; metainfo from ``meta_keys``
    (missing keys are skipped).
    """

    def __init__(self, meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                                  'flip_direction', 'pad_shape', 'angle_version')):
        self.meta_keys = tuple(meta_keys)

    def __call__(self, results: dict) -> dict:
        img = results['img']
        if img.ndim == 2:
            img = img[..., None]
        inputs = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        sample = DetDataSample()
        if 'gt_bboxes' in results:
            boxes = np.asarray(results['gt_bboxes'], np.float32)
            labels = np.asarray(results.get('gt_bboxes_labels', np.zeros(len(boxes))), np.int64)
            ignore = np.asarray(results.get('gt_ignore_flags', np.zeros(len(boxes), bool)), bool)
            for name, mask in (('gt_instances', ~ignore), ('ignored_instances', ignore)):
                inst = InstanceData()
                inst.bboxes = torch.from_numpy(boxes[mask].reshape(-1, boxes.shape[-1]))
                inst.labels = torch.from_numpy(labels[mask])
                setattr(sample, name, inst)
        sample.set_metainfo({k: results[k] for k in self.meta_keys if k in results})
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self):
        return f'{type(self).__name__}(meta_keys={self.meta_keys})'
