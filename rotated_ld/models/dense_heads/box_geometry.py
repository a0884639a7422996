"""Box-geometry strategies of the one distribution head (:class:`~.gfl_head.GFLHead`).

The GFL head family differs only in what a box is; everything else (towers, flattening, ATSS
targets, QFL/DFL, the per-level test loop, the LD plug-in) is the head's, written once:

=====================  ====================================  =========================================
                       :class:`HBoxEdges` (``'hbox'``)       :class:`RBoxEdgesAngle` (``'rbox'``)
=====================  ====================================  =========================================
box                    xyxy pixels                           ``(cx, cy, w, h, θ)`` radians, internal
                                                             version inside, ``angle_version`` out
edges                  l, t, r, b from the point             l, t, r, b in the box's rotated frame
angle                  —                                     ``angle_coder`` bins (``gfl_angle``)
quality / box loss     IoU / GIoU                            rotated IoU / ``RotatedIoULoss``
assigner               ``ATSSAssigner``                      ``RotatedATSSAssigner``
NMS default            ``nms`` 0.6, 100 per image            ``nms_rotated`` 0.1, 2000 per image
=====================  ====================================  =========================================

A strategy is a plain object (no parameters, nothing in the state dict).
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from rotated_ld.ops import box_iou_rotated
from rotated_ld.registry import TASK_UTILS
from rotated_ld.structures.bbox import check_angle_version, regularize_rboxes, rescale_rboxes

from ..losses.iou_loss import aligned_box_overlaps
from ..task_modules.coders.angle_coder import internal_angle_version
from ..task_modules.coders.distance_point_coder import bbox2distance, distance2bbox

BOX_TYPES = ('hbox', 'rbox')


def _scale_xy(sf) -> tuple[float, float]:
    return (float(sf[0]), float(sf[1])) if hasattr(sf, '__len__') else (float(sf), float(sf))


class HBoxEdges:
    """Horizontal boxes as 4 edge distances (GFL). Box tensors: xyxy."""

    box_type = 'hbox'
    box_dim = 4
    angle_channels = 0
    default_loss_bbox = {'type': 'GIoULoss', 'loss_weight': 2.0}
    default_assigner = {'type': 'ATSSAssigner', 'topk': 9}
    default_test_cfg = {'nms_pre': 1000, 'min_bbox_size': 0, 'score_thr': 0.05,
                        'nms': {'type': 'nms', 'iou_threshold': 0.6}, 'max_per_img': 100}

    def __init__(self, bbox_coder: Optional[dict] = None) -> None:
        if bbox_coder is not None and bbox_coder.get('type', 'DistancePointBBoxCoder') != 'DistancePointBBoxCoder':
            raise ValueError(f'GFLHead decodes edge distances; bbox_coder={bbox_coder} is not supported')

    def prepare_gts(self, bboxes: Tensor) -> Tensor:
        """(G, 4) xyxy pixels, fp32."""
        return bboxes.float()

    def to_stride_units(self, boxes: Tensor, strides: Tensor) -> Tensor:
        """(P, 4) pixels → stride units; ``strides`` (P, 2) ``(sw, sh)``."""
        return boxes / strides.repeat(1, 2)

    def decode(self, centers: Tensor, dist: Tensor, angle_logits: Optional[Tensor] = None) -> Tensor:
        """(P, 4) boxes in stride units from centres (P, 2) and distances (P, 4), stride units."""
        return distance2bbox(centers, dist)

    def decode_pixels(self, priors: Tensor, dist: Tensor, angle_logits: Optional[Tensor], meta: dict) -> Tensor:
        """(P, 4) xyxy pixels, clipped to ``img_shape``; ``priors`` (P, 4) ``x, y, sw, sh``."""
        return distance2bbox(priors[:, :2], dist * priors[:, 2:].repeat(1, 2), meta.get('img_shape'))

    def aligned_iou(self, pred: Tensor, target: Tensor) -> Tensor:
        return aligned_box_overlaps(pred, target).clamp(min=0)

    def edge_targets(self, centers: Tensor, gt_boxes: Tensor, reg_max: int) -> Tensor:
        """(P, 4) edge distances of the GT in stride units, clamped below ``reg_max``."""
        return bbox2distance(centers, gt_boxes, reg_max, eps=0.1)

    def rescale(self, boxes: Tensor, sf) -> Tensor:
        return boxes / boxes.new_tensor([sf[0], sf[1], sf[0], sf[1]])

    def wh(self, boxes: Tensor) -> Tensor:
        return boxes[:, 2:] - boxes[:, :2]

    def finalize(self, boxes: Tensor) -> Tensor:
        return boxes


class RBoxEdgesAngle:
    """Rotated boxes as 4 edges in the box frame + the angle from an angle coder.

    Args:
        angle_version (str): ``'oc'`` | ``'le90'`` | ``'le135'`` of GTs in and predictions out.
        angle_coder (dict): ``CircularAngleCoder`` (bins on a circle) or ``PlainAngleCoder``.
        bbox_coder (dict): ``DistanceAnglePointCoder``.
    """

    box_type = 'rbox'
    box_dim = 5
    default_loss_bbox = {'type': 'RotatedIoULoss', 'loss_weight': 2.0}
    default_assigner = {'type': 'RotatedATSSAssigner', 'topk': 9}
    default_test_cfg = {'nms_pre': 2000, 'min_bbox_size': 0, 'score_thr': 0.05,
                        'nms': {'type': 'nms_rotated', 'iou_threshold': 0.1}, 'max_per_img': 2000}

    def __init__(self, angle_version: str = 'le90', angle_coder: Optional[dict] = None,
                 bbox_coder: Optional[dict] = None) -> None:
        self.angle_version = check_angle_version(angle_version)
        self.internal_version = internal_angle_version(angle_version)
        coder = dict(angle_coder or {'type': 'CircularAngleCoder', 'angle_bins': 36})
        self.angle_coder = TASK_UTILS.build(dict(coder, angle_version=angle_version))
        self.rbox_coder = TASK_UTILS.build(dict(bbox_coder or {'type': 'DistanceAnglePointCoder'}))
        self.angle_channels = self.angle_coder.encode_size

    def prepare_gts(self, bboxes: Tensor) -> Tensor:
        """(G, 5) rboxes regularised into the internal angle version, fp32."""
        return regularize_rboxes(bboxes.float().reshape(-1, 5), self.internal_version)

    def to_stride_units(self, boxes: Tensor, strides: Tensor) -> Tensor:
        """(P, 5) pixels → stride units (``cx, cy, w, h`` / sw; the angle unchanged)."""
        return torch.cat([boxes[:, :4] / strides[:, :1], boxes[:, 4:]], dim=1)

    def decode(self, centers: Tensor, dist: Tensor, angle_logits: Tensor) -> Tensor:
        """(P, 5) rboxes in stride units, internal version (not regularised)."""
        return self.rbox_coder.decode_with_angle(centers, dist, self.angle_coder.decode(angle_logits))

    def decode_pixels(self, priors: Tensor, dist: Tensor, angle_logits: Tensor, meta: dict) -> Tensor:
        boxes = self.decode(priors[:, :2] / priors[:, 2:], dist, angle_logits)
        return torch.cat([boxes[:, :4] * priors[:, 2:3], boxes[:, 4:]], dim=1)

    def aligned_iou(self, pred: Tensor, target: Tensor) -> Tensor:
        return box_iou_rotated(pred, target, aligned=True).clamp(min=0, max=1)

    def edge_targets(self, centers: Tensor, gt_boxes: Tensor, reg_max: int) -> Tensor:
        return self.rbox_coder.encode(centers, gt_boxes, max_dis=reg_max, eps=0.1)[:, :4]

    def rescale(self, boxes: Tensor, sf) -> Tensor:
        return rescale_rboxes(boxes, *_scale_xy(sf))

    def wh(self, boxes: Tensor) -> Tensor:
        return boxes[:, 2:4]

    def finalize(self, boxes: Tensor) -> Tensor:
        return regularize_rboxes(boxes, self.angle_version)


def build_geometry(box_type: str, **kwargs) -> HBoxEdges | RBoxEdgesAngle:
    """The strategy of ``box_type``; ``kwargs`` are its arguments (rotated: angle version, coders)."""
    if box_type == 'hbox':
        extra = sorted(k for k, v in kwargs.items() if k != 'bbox_coder' and v is not None)
        if extra:
            raise ValueError(f'{extra} only apply to rotated boxes (box_type=\'rbox\', RotatedGFLHead)')
        return HBoxEdges(kwargs.get('bbox_coder'))
    if box_type == 'rbox':
        return RBoxEdgesAngle(**{k: v for k, v in kwargs.items() if v is not None})
    raise ValueError(f'box_type={box_type!r}; expected one of {BOX_TYPES}')
