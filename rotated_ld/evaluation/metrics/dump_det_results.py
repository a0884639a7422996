"""``DumpDetResults``: the predictions of ``tools/test.py --out results.pkl``, as plain data.

One dict per image, in dataset order: ``img_id``, ``img_path``, ``ori_shape``, ``img_shape``,
``scale_factor`` and ``pred_instances = dict(bboxes, scores, labels)`` as numpy arrays (rotated
boxes ``(K, 5)`` ``(cx, cy, w, h, t)`` radians in the model's angle version, horizontal ``(K, 4)``
xyxy; original-image pixels). Written with ``pickle`` without torch objects, so any Python with
numpy (``mmengine.load``, ``pickle.load``) reads it, and
:func:`rotated_ld.utils.safe_pickle.safe_pickle_load` reads it without running pickled code.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from mmengine.evaluator import DumpResults

from rotated_ld.registry import METRICS

_META = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')


def _plain(x: Any) -> Any:
    if hasattr(x, 'detach'):
        return x.detach().cpu().numpy()
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_plain(v) for v in x)
    if isinstance(x, np.generic):
        return x.item()
    return x


@METRICS.register_module()
class DumpDetResults(DumpResults):
    """Dump per-image predictions (module docstring) to ``out_file_path`` (``.pkl``)."""

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for s in data_samples:
            if not isinstance(s, dict) or 'pred_instances' not in s:  # not a detector's output: keep it whole
                self.results.append(_plain(s))
                continue
            pred = s['pred_instances']
            rec = {k: _plain(s[k]) for k in _META if k in s}
            rec['pred_instances'] = {k: _plain(pred[k]) for k in ('bboxes', 'scores', 'labels') if k in pred}
            self.results.append(rec)


__all__ = ['DumpDetResults']
