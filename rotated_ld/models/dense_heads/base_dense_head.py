"""Dense-head interface: the glue between the three verbs ``forward`` / ``loss_by_feat`` /
``predict_by_feat``.

A mixin, not a level of the module hierarchy: every head is ``class Head(BaseDenseHead, BaseModule)``,
so no head is more than two project classes deep under ``BaseModule`` (the distribution head, then
one class of defaults).
"""
from __future__ import annotations

from typing import Optional

from torch import Tensor

from ..utils import unpack_gt_instances


class BaseDenseHead:
    """Dense head interface used by the detectors.

    * ``head(feats)`` → tuple of per-level lists (raw tensors only).
    * ``head.loss(feats, batch_data_samples, **extra)`` → dict of losses. ``extra`` (e.g.
      ``teacher_outs``, ``teacher_feats`` from the KD detector) is forwarded to ``loss_by_feat``
      together with ``feats=feats`` (the student's neck features).
    * ``head.predict(feats, batch_data_samples, rescale)`` → list of ``InstanceData`` with
      ``bboxes``, ``scores``, ``labels`` per image.
    """

    def loss(self, feats: tuple[Tensor, ...], batch_data_samples: list, **extra) -> dict:
        outs = self(feats)
        gts, metas, ignores = unpack_gt_instances(batch_data_samples)
        return self.loss_by_feat(*outs, gts, metas, ignores, feats=feats, **extra)

    def predict(self, feats: tuple[Tensor, ...], batch_data_samples: list, rescale: bool = False) -> list:
        metas = [s.metainfo for s in batch_data_samples]
        return self.predict_by_feat(*self(feats), batch_img_metas=metas, rescale=rescale)

    def loss_by_feat(self, *args, **kwargs) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError(f'{type(self).__name__} must implement loss_by_feat')

    def predict_by_feat(self, *args, batch_img_metas: Optional[list] = None, rescale: bool = False,
                        **kwargs) -> list:  # pragma: no cover - abstract
        raise NotImplementedError(f'{type(self).__name__} must implement predict_by_feat')
