"""Quality strategies of the one distribution head (:class:`~.gfl_head.GFLHead`, ``quality_mode``).

(GFLv2's DGQP is another option, ``quality_branch``; the two are independent.)

How the head scores localization quality and classifies — the only difference between the GFL
head and the ATSS / FCOS heads of the LD repository whose box branch is a GFL distribution
(``atss_gfl_head.py``, ``fcos_gfl_head.py``):

=====================  ===================================  ======================================
                       :class:`JointQuality` (``'qfl'``)    :class:`CenternessQuality`
                                                            (``'centerness'``)
=====================  ===================================  ======================================
extra output           —                                    ``gfl_centerness`` (B, 1, H, W) logits
classification loss    QFL, target = IoU(decoded, GT)       focal loss on the labels
box / DFL weight       ``w_i = max_c σ(sg(cls_i))``         centerness target ``c_i``
box normaliser ``W``   ``max(1, GPU-mean Σ w_i)``           ``max(1, GPU-mean Σ c_i)``
quality loss           —                                    BCE(centerness logit, ``c_i``) / #pos
test score             ``σ(cls)``                           ``σ(cls) · σ(centerness)``
=====================  ===================================  ======================================

``c_i = sqrt(min(l, r)/max(l, r) · min(t, b)/max(t, b))`` of the prior centre (ATSS) or point
(FCOS) against its GT (FCOS, Tian et al. 2019). The LD Main weight stays ``w_i`` in both (as the
reference LD heads). A strategy is a plain object (no parameters, nothing in the state dict).
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

QUALITY_MODES = ('qfl', 'centerness')


def centerness_targets(points: Tensor, gt_boxes: Tensor) -> Tensor:
    """FCOS centerness of each point against its GT.

    Args:
        points (Tensor): (P, 2) ``x, y`` (any unit, the same as ``gt_boxes``).
        gt_boxes (Tensor): (P, 4) xyxy of the GT assigned to each point.

    Returns:
        Tensor: (P,) fp32 in ``[0, 1]``; 1 at the box centre, 0 on (or outside) an edge.
    """
    p, g = points.float(), gt_boxes.float()
    lr = torch.stack([p[:, 0] - g[:, 0], g[:, 2] - p[:, 0]], 1).clamp(min=0)
    tb = torch.stack([p[:, 1] - g[:, 1], g[:, 3] - p[:, 1]], 1).clamp(min=0)
    ratio = (lr.min(1).values / lr.max(1).values.clamp(min=1e-12)) * \
        (tb.min(1).values / tb.max(1).values.clamp(min=1e-12))
    return ratio.sqrt()


class JointQuality:
    """GFL: the class score is the quality (QFL with the IoU of the decoded box as soft target)."""

    name = 'qfl'
    channels = 0

    def classification_loss(self, loss_cls: nn.Module, cls: Tensor, labels: Tensor, label_weights: Tensor,
                            pos_inds: Tensor, pos_ious: Tensor, avg_factor: float) -> Tensor:
        """cls (N, C) logits, labels (N,), label_weights (N,), pos_inds (P,), pos_ious (P,)."""
        score = cls.new_zeros(labels.shape, dtype=torch.float)
        score[pos_inds] = pos_ious.to(score.dtype)
        return loss_cls(cls, (labels, score), weight=label_weights, avg_factor=avg_factor)

    def box_weights(self, quality: Tensor, centers: Tensor, gt_boxes: Tensor) -> Tensor:
        """(P,) weight of the box / DFL losses of the positives: the quality ``w_i``."""
        return quality

    def scores(self, cls_prob: Tensor, centerness_logits: Optional[Tensor]) -> Tensor:
        """(N, C) test scores."""
        return cls_prob


class CenternessQuality(JointQuality):
    """ATSS / FCOS: focal classification + a centerness branch that re-weights boxes and scores."""

    name = 'centerness'
    channels = 1

    def classification_loss(self, loss_cls: nn.Module, cls: Tensor, labels: Tensor, label_weights: Tensor,
                            pos_inds: Tensor, pos_ious: Tensor, avg_factor: float) -> Tensor:
        return loss_cls(cls, labels, weight=label_weights, avg_factor=avg_factor)

    def box_weights(self, quality: Tensor, centers: Tensor, gt_boxes: Tensor) -> Tensor:
        """(P,) centerness targets of the positives' centres (P, 2) against their GTs (P, 4)."""
        return centerness_targets(centers, gt_boxes)

    def scores(self, cls_prob: Tensor, centerness_logits: Optional[Tensor]) -> Tensor:
        return cls_prob * centerness_logits.float().sigmoid()[:, None]


def build_quality(name: str, loss_cls_type: str, box_type: str) -> JointQuality:
    """The strategy ``name``; refuses a classification loss or box type it cannot serve."""
    if name not in QUALITY_MODES:
        raise ValueError(f'quality_mode={name!r}; expected one of {QUALITY_MODES}')
    if name == 'qfl':
        if loss_cls_type != 'QualityFocalLoss':
            raise ValueError(f"quality_mode='qfl' trains the class score as the IoU quality and needs "
                             f"loss_cls=QualityFocalLoss; got {loss_cls_type} (use quality_mode='centerness')")
        return JointQuality()
    if loss_cls_type == 'QualityFocalLoss':
        raise ValueError("quality_mode='centerness' classifies on labels (loss_cls=FocalLoss); "
                         'QualityFocalLoss needs the joint branch (quality_mode=\'qfl\')')
    if box_type != 'hbox':
        raise ValueError("quality_mode='centerness' is implemented for horizontal boxes only")
    return CenternessQuality()
