"""Box codings of the one RetinaNet anchor head (:class:`~.rotated_retina_head.RotatedRetinaHead`).

The RetinaNet head — 9 anchors per location, two towers, sigmoid focal loss, max-IoU assignment,
per-level ``nms_pre`` selection at test — is written once. What a regression output *is* and how
it becomes a box is the coding (``box_type``), a plain object without parameters:

=========================  =====================================  =======================================
                           :class:`RBoxDeltas` (``'rbox'``)        :class:`HBoxEdges` (``'hbox'``)
=========================  =====================================  =======================================
used by                    mmrotate / Rotated-LD / JDet rotated    HikariTJU/LD ``RetinaGFLHead`` /
                           RetinaNet (``RotatedRetinaHead``,       ``LDRetinaHead`` (``RetinaGFLHead``,
                           ``RotatedLDRetinaHead``)                ``LDRetinaHead`` here)
anchors / GTs              ``(cx, cy, w, h, 0)`` / rboxes in       xyxy / xyxy pixels
                           ``angle_version``
reg channels per anchor    ``5·R`` (distribution) or 5 (plain)     ``4·R`` (R = reg_max + 1, 17)
value of a row             expected deltas ``(dx, dy, dw, dh,      edge distances l, t, r, b from the
                           da)`` (``DistributionDelta``)           anchor *centre*, stride units
                                                                   (``Integral``, GFL's edge bins)
box loss                   ``L1Loss`` on deltas, or GWD / KLD on   ``GIoULoss`` 2.0 on the decoded box
                           decoded boxes (``reg_decoded_bbox``)    (stride units) vs the GT; optional
                                                                   ``loss_dfl`` (none upstream)
test                       decode, regularise, rotated NMS 0.1     clip to ``img_shape``, NMS 0.6
=========================  =====================================  =======================================

Every anchor of a location decodes from the same centre in ``'hbox'`` (the anchor's shape only
decides the assignment), as the LD repository's head does.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor

from rotated_ld.registry import TASK_UTILS
from rotated_ld.structures.bbox import regularize_rboxes, rescale_rboxes

from ..task_modules.coders.distance_point_coder import bbox2distance, distance2bbox

BOX_TYPES = ('hbox', 'rbox')

#: what ``RetinaGFLHead`` / ``LDRetinaHead`` change in :class:`RotatedRetinaHead`'s defaults
#: (HikariTJU/LD ``configs/gfl/retina_gfl_r101_2x.py``: mmdet anchors, ratios 0.5 / 1 / 2)
HBOX_RETINA_DEFAULTS = dict(
    box_type='hbox', angle_version=None, reg_max=16, reg_decoded_bbox=True,
    anchor_generator=dict(type='AnchorGenerator', octave_base_scale=4, scales_per_octave=3,
                          ratios=[0.5, 1.0, 2.0], strides=[8, 16, 32, 64, 128]),
    loss_bbox=dict(type='GIoULoss', loss_weight=2.0))


class RBoxDeltas:
    """Rotated anchors, ``(dx, dy, dw, dh, da)`` deltas (plain or as distributions).

    Args:
        angle_version (str): ``'oc'`` | ``'le90'`` | ``'le135'``; must equal the coder's.
        bbox_coder (dict, optional): ``DeltaXYWHAOBBoxCoder`` options (``angle_version`` defaults to
            the head's).
        prior_generator: the head's anchor generator (must give 5-d anchors; same ``compat``).
    """

    box_type = 'rbox'
    box_dim = 5
    default_test_cfg = dict(nms_pre=2000, min_bbox_size=0, score_thr=0.05,
                            nms=dict(type='nms_rotated', iou_threshold=0.1), max_per_img=2000)

    def __init__(self, angle_version: str, bbox_coder: Optional[dict], prior_generator) -> None:
        if prior_generator.box_dim != 5:
            raise ValueError('anchor_generator must produce (cx, cy, w, h, 0) priors: use RotatedAnchorGenerator')
        coder_cfg = dict(type='DeltaXYWHAOBBoxCoder', angle_version=angle_version)
        coder_cfg.update(bbox_coder or {})
        self.bbox_coder = TASK_UTILS.build(coder_cfg)
        if self.bbox_coder.angle_version != angle_version:
            raise ValueError(f'bbox_coder angle_version={self.bbox_coder.angle_version!r} differs from '
                             f'the head angle_version={angle_version!r}')
        gen_compat = getattr(prior_generator, 'compat', None)
        if gen_compat != getattr(self.bbox_coder, 'compat', None):
            raise ValueError(f'anchor_generator compat={gen_compat!r} but bbox_coder compat='
                             f'{getattr(self.bbox_coder, "compat", None)!r}: set both to the same value '
                             "(None: exact; 'mmrotate0' / 'mmrotate1': imported mmrotate weights)")
        self.angle_version = angle_version
        self.compat = getattr(self.bbox_coder, 'compat', None)

    @staticmethod
    def reg_channels(reg_max: Optional[int]) -> int:
        return 5 * (reg_max + 1) if reg_max is not None else 5

    def prepare_gts(self, boxes: Tensor) -> Tensor:
        """(G, 5) GT rboxes in the head's angle version, fp32."""
        if boxes.shape[-1] != 5:
            raise ValueError(f'RotatedRetinaHead needs (G, 5) rbox GTs, got {tuple(boxes.shape)}')
        if self.compat == 'mmrotate1':
            return boxes.float()  # 1.x regularises GTs once, inside encode (float32 bits matter at ±45° ties)
        return regularize_rboxes(boxes.float(), self.angle_version) if boxes.numel() else boxes.float()

    def encode(self, priors: Tensor, gts: Tensor) -> Tensor:
        """(P, 5) delta targets of positives."""
        return self.bbox_coder.encode(priors, gts)

    def box_loss(self, loss_bbox, reg_decoded_bbox: bool, priors: Tensor, values: Tensor, targets: Tensor,
                 gts: Tensor, strides: Tensor, avg_factor: float) -> Tensor:
        """``loss_bbox`` of the positives: on deltas, or on decoded boxes vs GT boxes."""
        if reg_decoded_bbox:
            return loss_bbox(self.bbox_coder.decode(priors, values), gts, weight=torch.ones_like(values),
                             avg_factor=avg_factor)
        return loss_bbox(values, targets, weight=torch.ones_like(values), avg_factor=avg_factor)

    def decode(self, priors: Tensor, values: Tensor, strides: Tensor, meta: dict) -> Tensor:
        """(K, 5) boxes in the head's angle version, network-input pixels."""
        # mmrotate's heads decode with max_shape=img_shape (centres clamped into the image); the
        # exact mode leaves centres unclamped, the compat modes reproduce mmrotate
        clamp = self.compat is not None and 'img_shape' in meta
        boxes = self.bbox_coder.decode(priors, values, max_shape=tuple(meta['img_shape'][:2]) if clamp else None)
        # the oc delta is not wrapped (as mmrotate) and edge_swap=False may give w < h:
        # return boxes in the head's angle version (the same boxes, regularised)
        return regularize_rboxes(boxes, self.angle_version)

    def rescale(self, boxes: Tensor, scale_factor: Sequence[float]) -> Tensor:
        return regularize_rboxes(rescale_rboxes(boxes, *scale_factor[:2]), self.angle_version)

    @staticmethod
    def wh(boxes: Tensor) -> Tensor:
        return boxes[:, 2:4]


class HBoxEdges:
    """Horizontal anchors whose box branch is GFL's edge distributions (HikariTJU/LD ``RetinaGFLHead``).

    Args:
        bbox_coder (dict, optional): must be ``None``: edges are decoded from the anchor centre.
        prior_generator: the head's anchor generator (must give xyxy anchors: ``AnchorGenerator``).
        reg_decoded_bbox (bool): must be True (the box loss is on decoded boxes, as upstream).
    """

    box_type = 'hbox'
    box_dim = 4
    angle_version = None
    default_test_cfg = dict(nms_pre=1000, min_bbox_size=0, score_thr=0.05,
                            nms=dict(type='nms', iou_threshold=0.6), max_per_img=100)

    def __init__(self, bbox_coder: Optional[dict], prior_generator, reg_decoded_bbox: bool) -> None:
        if bbox_coder is not None:
            raise ValueError(f"box_type='hbox' decodes edge distances from the anchor centre; remove bbox_coder="
                             f'{bbox_coder} (the LD repository\'s DeltaXYWHBBoxCoder entry is unused there too)')
        if prior_generator.box_dim != 4:
            raise ValueError("box_type='hbox' needs xyxy anchors: anchor_generator=dict(type='AnchorGenerator', ...)")
        if not reg_decoded_bbox:
            raise ValueError("box_type='hbox' computes the box loss on decoded boxes: reg_decoded_bbox must be True")
        self.compat = None

    @staticmethod
    def reg_channels(reg_max: Optional[int]) -> int:
        if reg_max is None:
            raise ValueError("box_type='hbox' is a distribution box branch: set reg_max (16 as the LD repository)")
        return 4 * (reg_max + 1)

    def prepare_gts(self, boxes: Tensor) -> Tensor:
        """(G, 4) xyxy GTs, fp32."""
        if boxes.shape[-1] != 4:
            raise ValueError(f"box_type='hbox' needs (G, 4) xyxy GTs, got {tuple(boxes.shape)}")
        return boxes.float()

    def encode(self, priors: Tensor, gts: Tensor) -> Tensor:
        """The GT boxes themselves (the loss is on decoded boxes)."""
        return gts

    @staticmethod
    def centers(priors: Tensor) -> Tensor:
        return (priors[:, :2] + priors[:, 2:]) / 2

    def box_loss(self, loss_bbox, reg_decoded_bbox: bool, priors: Tensor, values: Tensor, targets: Tensor,
                 gts: Tensor, strides: Tensor, avg_factor: float) -> Tensor:
        """GIoU (``loss_bbox``) of the box decoded from the anchor centre, in stride units (as upstream)."""
        s = strides[:, None]
        pred = distance2bbox(self.centers(priors) / s, values)
        return loss_bbox(pred, gts / s, weight=torch.ones_like(values), avg_factor=avg_factor)

    def edge_targets(self, priors: Tensor, gts: Tensor, strides: Tensor, reg_max: int) -> Tensor:
        """(P, 4) GT edge distances from the anchor centre in stride units, clamped below ``reg_max``
        (the DFL target, as GFL)."""
        s = strides[:, None]
        return bbox2distance(self.centers(priors) / s, gts / s, reg_max, eps=0.1)

    def decode(self, priors: Tensor, values: Tensor, strides: Tensor, meta: dict) -> Tensor:
        """(K, 4) xyxy network-input pixels, clipped to ``img_shape``."""
        return distance2bbox(self.centers(priors), values * strides[:, None], meta.get('img_shape'))

    @staticmethod
    def rescale(boxes: Tensor, scale_factor: Sequence[float]) -> Tensor:
        sx, sy = float(scale_factor[0]), float(scale_factor[1])
        return boxes / boxes.new_tensor([sx, sy, sx, sy])

    @staticmethod
    def wh(boxes: Tensor) -> Tensor:
        return boxes[:, 2:] - boxes[:, :2]


def build_anchor_coding(box_type: str, *, angle_version: Optional[str], bbox_coder: Optional[dict],
                        prior_generator, reg_decoded_bbox: bool) -> RBoxDeltas | HBoxEdges:
    """The coding of ``box_type`` (``'rbox'`` deltas or ``'hbox'`` GFL edges)."""
    if box_type == 'rbox':
        if angle_version is None:
            raise ValueError("box_type='rbox' needs an angle_version ('oc' | 'le90' | 'le135')")
        return RBoxDeltas(angle_version, bbox_coder, prior_generator)
    if box_type == 'hbox':
        if angle_version is not None:
            raise ValueError(f"angle_version={angle_version!r} only applies to box_type='rbox'")
        return HBoxEdges(bbox_coder, prior_generator, reg_decoded_bbox)
    raise ValueError(f'box_type={box_type!r}; expected one of {BOX_TYPES}')
