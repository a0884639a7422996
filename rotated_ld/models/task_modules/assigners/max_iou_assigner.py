"""Max-IoU assigner (mmdet ``MaxIoUAssigner``) for rotated GTs and horizontal / rotated priors.

Per image, with ``IoU[g, a]`` between GT ``g`` and prior ``a``:

1. every prior starts *ignored* (−1);
2. negative (0) if its best IoU over GTs is in ``[0, neg_iou_thr)`` (or in ``[lo, hi)`` for a
   tuple);
3. positive (``g + 1``) if its best IoU ``≥ pos_iou_thr``, assigned to the argmax GT;
4. low-quality matches (``match_low_quality``): every GT whose best IoU ``≥ min_pos_iou`` also
   claims its best prior (all priors tying that best IoU with ``gt_max_assign_all``); GTs are
   processed in index order, so a later GT overwrites an earlier one, as in mmdet's loop.
   One deliberate difference: a GT whose best IoU is 0 claims nothing (mmdet with
   ``min_pos_iou=0`` and ``gt_max_assign_all`` would make every prior with IoU 0 positive).
5. ignored GTs (difficult objects): priors whose IoF with them ``> ignore_iof_thr`` are ignored
   (only if ``ignore_iof_thr > 0``; default off, as every reference config).

``iou_mode`` picks the overlap (docs/method.md §9):

* ``'rotated'``: rotated IoU of the prior (angle 0 for xyxy priors) with the GT rbox
  (mmrotate ``RBboxOverlaps2D``; JDet).
* ``'circumscribed_hbox'``: horizontal IoU of the prior with the GT's horizontal circumscribed
  box (mmrotate's ``assign_by_circumhbbox``, used by rotated RetinaNet ``hbb`` configs and
  Rotated-LD).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple, Optional

import torch
from torch import Tensor
from torchvision.ops import box_iou

from rotated_ld.ops import box_iou_rotated
from rotated_ld.registry import TASK_UTILS
from rotated_ld.structures.bbox import as_rboxes, rbox2hbox

IOU_MODES = ('rotated', 'circumscribed_hbox')


class MaxIoUAssignResult(NamedTuple):
    """Result of :meth:`MaxIoUAssigner.assign` for one image.

    Attributes:
        num_gts (int): number of ground truths G.
        gt_inds (Tensor): (A,) long; −1 ignored, 0 negative, ``g + 1`` positive for GT ``g``.
        max_overlaps (Tensor): (A,) best IoU over GTs (−1 where an ignore region removed it).
        labels (Tensor): (A,) long; class of the assigned GT, −1 otherwise.
    """

    num_gts: int
    gt_inds: Tensor
    max_overlaps: Tensor
    labels: Tensor


def _hbox_of(boxes: Tensor) -> Tensor:
    """(N, 4) xyxy unchanged; (N, 5) rboxes → horizontal circumscribed xyxy boxes."""
    if boxes.shape[-1] == 4:
        return boxes
    return rbox2hbox(boxes)


def _hbox_iof(boxes: Tensor, regions: Tensor) -> Tensor:
    """(A, I) intersection over the area of ``boxes`` (xyxy)."""
    lt = torch.max(boxes[:, None, :2], regions[None, :, :2])
    rb = torch.min(boxes[:, None, 2:], regions[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area = (boxes[:, 2:] - boxes[:, :2]).clamp(min=0).prod(-1)
    return inter / area.clamp(min=1e-6)[:, None]


@TASK_UTILS.register_module()
@dataclass(eq=False)
class MaxIoUAssigner:
    """Assign each prior to a GT by IoU thresholds (see module docstring).

    Args:
        pos_iou_thr (float): positive threshold. Default 0.5.
        neg_iou_thr (float | tuple[float, float]): negative threshold / range. Default 0.4.
        min_pos_iou (float): minimum IoU of a low-quality match. Default 0.
        gt_max_assign_all (bool): a GT claims all priors tying its best IoU. Default True.
        match_low_quality (bool): step 4 on/off. Default True.
        ignore_iof_thr (float): IoF threshold with ignored GTs; ``≤ 0`` disables. Default −1.
        iou_mode (str): ``'rotated'`` or ``'circumscribed_hbox'``. Default ``'rotated'``.
        iou_calculator (callable, optional): ``f(priors (A, 5), gts (G, 5)) -> (A, G)`` rotated IoU;
            default ``rotated_ld.ops.box_iou_rotated`` (only used with ``iou_mode='rotated'``).
    """

    pos_iou_thr: float = 0.5
    neg_iou_thr: float | tuple = 0.4
    min_pos_iou: float = 0.0
    gt_max_assign_all: bool = True
    match_low_quality: bool = True
    ignore_iof_thr: float = -1.0
    iou_mode: str = 'rotated'
    iou_calculator: Optional[Callable[[Tensor, Tensor], Tensor]] = None

    def __post_init__(self) -> None:
        if self.iou_mode not in IOU_MODES:
            raise ValueError(f'iou_mode={self.iou_mode!r}; expected one of {IOU_MODES}')

    def overlaps(self, priors: Tensor, gt_bboxes: Tensor) -> Tensor:
        """(G, A) IoU between GTs (G, 5) and priors (A, 4) xyxy or (A, 5), by ``iou_mode``."""
        if self.iou_mode == 'circumscribed_hbox':
            prior_h = priors if priors.shape[-1] == 4 else _hbox_of(priors)
            return box_iou(_hbox_of(gt_bboxes.float()), prior_h.float())
        fn = self.iou_calculator
        if fn is None:
            fn = box_iou_rotated
        return fn(as_rboxes(priors).float(), gt_bboxes.float()).t()

    def assign(self, priors: Tensor, gt_bboxes: Tensor, gt_labels: Tensor,
               gt_bboxes_ignore: Tensor | None = None) -> MaxIoUAssignResult:
        """Assign the priors of one image.

        Args:
            priors (Tensor): (A, 4) xyxy or (A, 5) rbox priors.
            gt_bboxes (Tensor): (G, 5) GT rboxes ``(cx, cy, w, h, t)`` radians.
            gt_labels (Tensor): (G,) long.
            gt_bboxes_ignore (Tensor, optional): (I, 5) ignored GT rboxes.
        """
        num_priors, num_gts = priors.shape[0], gt_bboxes.shape[0]
        if num_gts == 0 or num_priors == 0:
            gt_inds = priors.new_full((num_priors,), 0 if num_gts == 0 else -1, dtype=torch.long)
            return MaxIoUAssignResult(num_gts, gt_inds, priors.new_zeros((num_priors,)),
                                      priors.new_full((num_priors,), -1, dtype=torch.long))
        overlaps = self.overlaps(priors, gt_bboxes)
        if self.ignore_iof_thr > 0 and gt_bboxes_ignore is not None and gt_bboxes_ignore.numel() > 0:
            iof = _hbox_iof(_hbox_of(priors.float()), _hbox_of(gt_bboxes_ignore.float()))
            overlaps[:, iof.max(dim=1).values > self.ignore_iof_thr] = -1
        return self.assign_wrt_overlaps(overlaps, gt_labels)

    def assign_wrt_overlaps(self, overlaps: Tensor, gt_labels: Tensor) -> MaxIoUAssignResult:
        """Steps 1–4 on a (G, A) IoU matrix."""
        num_gts, num_priors = overlaps.shape
        gt_inds = overlaps.new_full((num_priors,), -1, dtype=torch.long)
        max_overlaps, argmax = overlaps.max(dim=0)
        if isinstance(self.neg_iou_thr, (int, float)):
            gt_inds[(max_overlaps >= 0) & (max_overlaps < self.neg_iou_thr)] = 0
        else:
            lo, hi = self.neg_iou_thr
            gt_inds[(max_overlaps >= lo) & (max_overlaps < hi)] = 0
        pos = max_overlaps >= self.pos_iou_thr
        gt_inds[pos] = argmax[pos] + 1
        if self.match_low_quality:
            gt_max, gt_argmax = overlaps.max(dim=1)
            valid = (gt_max >= self.min_pos_iou) & (gt_max > 0)
            if self.gt_max_assign_all:
                claim = (overlaps == gt_max[:, None]) & valid[:, None]  # (G, A)
            else:
                claim = torch.zeros_like(overlaps, dtype=torch.bool)
                claim[torch.arange(num_gts, device=overlaps.device), gt_argmax] = True
                claim &= valid[:, None]
            # the last claiming GT wins (mmdet's sequential loop overwrites in index order)
            any_claim = claim.any(dim=0)
            last = num_gts - 1 - claim.flip(0).int().argmax(dim=0)
            gt_inds[any_claim] = last[any_claim] + 1
        labels = gt_inds.new_full((num_priors,), -1)
        p = gt_inds > 0
        labels[p] = gt_labels[gt_inds[p] - 1].long()
        return MaxIoUAssignResult(num_gts, gt_inds, max_overlaps, labels)
