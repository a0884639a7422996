"""Distillation regions: which priors each LD term distils and with what weight (docs/ld.md).

Every LD head — horizontal LD, angle-aware rotated LD, the published Rotated-LD RetinaNet — gets
its regions from here through :meth:`LDDistiller.regions`; the heads only describe their geometry
(:class:`RegionInputs`). Three region strategies:

* **Main** (``region=None``, the default): the head's positives with the head's weight — the GFL
  quality ``w_i = max_c σ(sg(x_ic))`` (:func:`quality_weights`) or 1 (RetinaNet, JDet rule).
* **VLR** (:class:`VLRRegion`, the LD paper's Valuable Localization Region), per image:

  1. ``thr_g`` = mean + unbiased std of the IoUs of the ATSS candidates (``topk`` priors per level
     nearest the GT centre) — the positive assignment's threshold, reused when the assigner has it;
  2. prior ``a`` is VLR for GT ``g`` iff ``α·thr_g ≤ D[a, g] < thr_g`` (α = 0.25), ``D`` a DIoU-like
     score: ``'diou'`` = IoU − ρ²/c² (the paper's intent, default) or ``'iof_diou'`` =
     inter/area(prior) − ρ²/c² (HikariTJU/LD's ``bbox_overlaps(mode='diou')``, bit-faithful);
  3. its weight is the largest plain IoU over the GTs it is VLR for; positives are excluded by
     default (``exclude_pos=True``; the reference GFL head keeps them).

  Rotated heads (``box_type='rbox'``) use rotated IoU of the prior's square box with the GT rbox;
  ρ = centre distance, c = diagonal of the axis-aligned box enclosing the prior and the GT's hull.
* **Rotated-LD** (:class:`RotatedLDRegion`, Zzh-tju/Rotated-LD): IoU is the **axis-aligned** IoU of
  the prior with ``(cx ± w/2, cy ± h/2)`` of the GT (the angle ignored, as the reference;
  ``region_gt='circumscribed'`` uses the GT's circumscribed box); ``thr_g`` as above; prior ``a`` is
  in iff ``IoU[a, g] ≥ α·thr_g`` for some ``g`` (no upper bound: positives are in); weight = the
  largest such IoU. It serves LD and KD alike.
* **Inside-GT negatives** (:class:`InsideGTRegion`, the LD repository's FCOS student): priors
  whose centre lies strictly inside some GT box but that are not positive (outside the centre
  sampling radius or the level's regression range), weighted by the student's quality
  ``max_c σ(sg(x_ic))``. Used in the second LD slot (``loss_ld_neg``) with a lower weight.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import torch
from torch import Tensor

from rotated_ld.ops import box_iou_rotated
from rotated_ld.registry import TASK_UTILS
from rotated_ld.structures.bbox import hbox2rbox, rbox2hbox

from ..task_modules.assigners import atss_threshold

VLR_OVERLAPS = ('diou', 'iof_diou')
BOX_TYPES = ('hbox', 'rbox')
REGION_GTS = ('ignore_angle', 'circumscribed')
OverlapFn = Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]


# ------------------------------------------------------------------------------------ overlaps
def hbox_iou_diou(priors: Tensor, gts: Tensor, mode: str = 'diou',
                  eps: float = 1e-6) -> tuple[Tensor, Tensor]:
    """IoU and DIoU-like score of horizontal priors against horizontal GTs.

    Args:
        priors (Tensor): (A, 4) xyxy.
        gts (Tensor): (G, 4) xyxy.
        mode (str): ``'diou'``: ``D = IoU − ρ²/c²``; ``'iof_diou'``: ``D = inter/area(prior) − ρ²/c²``.
        eps (float): guard of the union / area and of ``c²``.

    Returns:
        tuple[Tensor, Tensor]: IoU (A, G) and D (A, G), fp32.
    """
    if mode not in VLR_OVERLAPS:
        raise ValueError(f'vlr overlap={mode!r}; expected one of {VLR_OVERLAPS}')
    a = priors.float()[:, None, :]
    g = gts.float()[None, :, :]
    lt = torch.maximum(a[..., :2], g[..., :2])
    rb = torch.minimum(a[..., 2:], g[..., 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area_a = (a[..., 2:] - a[..., :2]).clamp(min=0).prod(-1)
    area_g = (g[..., 2:] - g[..., :2]).clamp(min=0).prod(-1)
    iou = inter / (area_a + area_g - inter).clamp(min=eps)
    enc = (torch.maximum(a[..., 2:], g[..., 2:]) - torch.minimum(a[..., :2], g[..., :2]))
    c2 = enc.pow(2).sum(-1) + eps
    rho2 = ((a[..., :2] + a[..., 2:]) / 2 - (g[..., :2] + g[..., 2:]) / 2).pow(2).sum(-1)
    base = iou if mode == 'diou' else inter / area_a.clamp(min=eps)
    return iou, base - rho2 / c2


def rbox_iou_diou(priors: Tensor, gts: Tensor, mode: str = 'diou') -> tuple[Tensor, Tensor]:
    """Rotated IoU and DIoU-like score of horizontal priors against rotated GTs.

    Args:
        priors (Tensor): (A, 4) xyxy prior boxes (compared as angle-0 rboxes).
        gts (Tensor): (G, 5) ``(cx, cy, w, h, angle)`` radians, any angle version.
        mode (str): ``'diou'`` (IoU − ρ²/c²) or ``'iof_diou'`` (inter/area(prior) − ρ²/c²); ρ = centre
            distance, c = diagonal of the axis-aligned box enclosing the prior and the GT's hull.

    Returns:
        tuple[Tensor, Tensor]: rotated IoU (A, G) and D (A, G), fp32.
    """
    if mode not in VLR_OVERLAPS:
        raise ValueError(f'vlr overlap={mode!r}; expected one of {VLR_OVERLAPS}')
    prb = hbox2rbox(priors.float())
    g = gts.float()
    iou = box_iou_rotated(prb, g)
    base = iou if mode == 'diou' else box_iou_rotated(prb, g, mode='iof')
    hull = rbox2hbox(g)
    lt = torch.minimum(priors[:, None, :2].float(), hull[None, :, :2])
    rb = torch.maximum(priors[:, None, 2:].float(), hull[None, :, 2:])
    c2 = (rb - lt).pow(2).sum(-1) + 1e-6
    rho2 = (prb[:, None, :2] - g[None, :, :2]).pow(2).sum(-1)
    return iou, base - rho2 / c2


def overlap_fn(box_type: str, mode: str = 'diou') -> OverlapFn:
    """``(priors (A, 4) xyxy, gts (G, 4 | 5)) -> (IoU (A, G), D (A, G))`` for ``'hbox'`` / ``'rbox'`` GTs."""
    if box_type not in BOX_TYPES:
        raise ValueError(f'box_type={box_type!r}; expected one of {BOX_TYPES}')
    if mode not in VLR_OVERLAPS:
        raise ValueError(f'vlr overlap={mode!r}; expected one of {VLR_OVERLAPS}')
    fn = hbox_iou_diou if box_type == 'hbox' else rbox_iou_diou

    def overlaps(priors: Tensor, gts: Tensor) -> tuple[Tensor, Tensor]:
        return fn(priors, gts, mode)
    return overlaps


def box_centers(boxes: Tensor) -> Tensor:
    """Centres (N, 2) of xyxy boxes (N, 4) or rotated boxes (N, 5) ``(cx, cy, w, h, t)``."""
    if boxes.shape[-1] == 4:
        return (boxes[..., :2] + boxes[..., 2:4]) / 2
    if boxes.shape[-1] == 5:
        return boxes[..., :2]
    raise ValueError(f'boxes of shape {tuple(boxes.shape)}; expected (..., 4) xyxy or (..., 5) rbox')


def rbox_axis_boxes(rboxes: Tensor, mode: str = 'ignore_angle') -> Tensor:
    """(N, 5) rboxes → (N, 4) xyxy: ``(cx ± w/2, cy ± h/2)`` (``'ignore_angle'``, Rotated-LD's rule)
    or the circumscribed horizontal box (``'circumscribed'``)."""
    if mode == 'circumscribed':
        return rbox2hbox(rboxes)
    if mode != 'ignore_angle':
        raise ValueError(f'region_gt={mode!r}; expected one of {REGION_GTS}')
    c, wh = rboxes[:, :2], rboxes[:, 2:4]
    return torch.cat([c - wh / 2, c + wh / 2], dim=1)


# ------------------------------------------------------------------------------------ thresholds
def atss_thresholds(iou: Tensor, distances: Tensor, num_level_priors: Sequence[int],
                    topk: int = 9) -> Tensor:
    """ATSS IoU threshold per GT over the ``topk`` nearest priors per level (:func:`atss_threshold`).

    Args:
        iou (Tensor): (A, G) prior/GT IoU.
        distances (Tensor): (A, G) prior-centre to GT-centre distances.
        num_level_priors (Sequence[int]): priors per level, summing to A.
        topk (int): candidates per level and GT.

    Returns:
        Tensor: (G,) thresholds.
    """
    cand, start = [], 0
    for n in num_level_priors:
        k = min(topk, n)
        if k > 0:
            cand.append(distances[start:start + n].topk(k, dim=0, largest=False).indices + start)
        start += n
    idx = torch.cat(cand, dim=0)  # (K, G)
    return atss_threshold(iou.gather(0, idx))


def vlr_weights_from_overlaps(iou: Tensor, score: Tensor, thr: Tensor, alpha: float = 0.25,
                              exclude: Tensor | None = None) -> Tensor:
    """VLR weight per prior from precomputed overlaps (steps 2–3 of the module docstring).

    Args:
        iou (Tensor): (A, G) plain IoU (the weight).
        score (Tensor): (A, G) the score compared to the thresholds (``D``).
        thr (Tensor): (G,) ATSS thresholds.
        alpha (float): lower bound factor ``α_vl``.
        exclude (Tensor, optional): (A,) bool, priors forced out of the VLR (positives).

    Returns:
        Tensor: (A,) fp32 weights; > 0 exactly on the VLR.
    """
    if iou.shape[1] == 0:
        return iou.new_zeros(iou.shape[0], dtype=torch.float32)
    thr = thr.to(score.dtype)[None, :]
    valid = (score >= alpha * thr) & (score < thr)
    w = torch.where(valid, iou.float(), iou.new_full((), -1.0, dtype=torch.float32)).max(1).values
    w = w.clamp(min=0)
    if exclude is not None:
        w = torch.where(exclude, torch.zeros_like(w), w)
    return w


def quality_weights(cls_logits: Tensor, pos_mask: Tensor) -> Tensor:
    """Main-region weight ``w_i = max_c σ(sg(x_ic))`` on positives, 0 elsewhere.

    Args:
        cls_logits (Tensor): (P, C) student class logits.
        pos_mask (Tensor): (P,) bool.
    Returns:
        Tensor: (P,) fp32.
    """
    w = cls_logits.detach().float().sigmoid().max(-1).values if cls_logits.shape[-1] else \
        cls_logits.new_zeros(cls_logits.shape[:-1], dtype=torch.float32)
    return torch.where(pos_mask, w, torch.zeros_like(w))


# ------------------------------------------------------------------------------------ strategies
@TASK_UTILS.register_module()
class VLRRegion:
    """Valuable localization region of one image (see module docstring).

    Args:
        topk (int): ATSS candidates per level for the threshold (9).
        alpha (float): ``α_vl`` — lower bound ``α·thr ≤ D`` (0.25).
        overlap (str): ``'diou'`` (default) or ``'iof_diou'`` (reference-faithful).
        exclude_pos (bool): remove positives from the VLR (default True; reference: False).
        box_type (str): ``'hbox'`` (xyxy GTs) or ``'rbox'`` (rotated GTs); set by the head that
            builds the distiller, not by configs.

    Example:
        >>> vlr = VLRRegion()
        >>> w = vlr(priors, [h1 * w1, h2 * w2], gt_bboxes, pos_mask)  # (A,) weights
    """

    def __init__(self, topk: int = 9, alpha: float = 0.25, overlap: str = 'diou',
                 exclude_pos: bool = True, box_type: str = 'hbox') -> None:
        if not 0 <= alpha <= 1:
            raise ValueError(f'alpha={alpha!r}; expected 0 <= alpha <= 1')
        self.topk = topk
        self.alpha = alpha
        self.overlap = overlap
        self.exclude_pos = exclude_pos
        self.box_type = box_type
        self.overlap_fn = overlap_fn(box_type, overlap)

    def __call__(self, priors: Tensor, num_level_priors: Sequence[int], gt_bboxes: Tensor,
                 pos_mask: Tensor | None = None, thresholds: Tensor | None = None) -> Tensor:
        """VLR weights of one image.

        Args:
            priors (Tensor): (A, 4) xyxy prior boxes (all levels concatenated).
            num_level_priors (Sequence[int]): priors per level.
            gt_bboxes (Tensor): (G, 4) xyxy (``'hbox'``) or (G, 5) rboxes (``'rbox'``).
            pos_mask (Tensor, optional): (A,) bool positives (excluded if ``exclude_pos``).
            thresholds (Tensor, optional): (G,) ATSS thresholds if the assigner already has them.

        Returns:
            Tensor: (A,) fp32 weights, IoU with the GT that put the prior in the VLR, else 0.
        """
        A = priors.shape[0]
        if A == 0 or gt_bboxes.shape[0] == 0:
            return priors.new_zeros(A, dtype=torch.float32)
        iou, score = self.overlap_fn(priors, gt_bboxes)
        if thresholds is None or thresholds.numel() != gt_bboxes.shape[0]:
            dist = torch.cdist(box_centers(priors).float(), box_centers(gt_bboxes).float())
            thresholds = atss_thresholds(iou, dist, num_level_priors, self.topk)
        exclude = pos_mask if (self.exclude_pos and pos_mask is not None) else None
        return vlr_weights_from_overlaps(iou, score, thresholds, self.alpha, exclude)


@TASK_UTILS.register_module()
class RotatedLDRegion:
    """The published Rotated-LD region of one image (see module docstring).

    Args:
        alpha (float): lower-bound factor of the ATSS threshold (0.25).
        topk (int): priors per level entering the threshold (9).
        region_gt (str): ``'ignore_angle'`` (reference) or ``'circumscribed'``.
        gt_chunk (int): GTs processed at once (memory bound only; the result does not depend on it).
    """

    def __init__(self, alpha: float = 0.25, topk: int = 9, region_gt: str = 'ignore_angle',
                 gt_chunk: int = 64) -> None:
        if region_gt not in REGION_GTS:
            raise ValueError(f'region_gt={region_gt!r}; expected one of {REGION_GTS}')
        self.alpha, self.topk, self.region_gt, self.gt_chunk = alpha, topk, region_gt, gt_chunk

    def __call__(self, priors: Tensor, num_level_priors: Sequence[int], gt_bboxes: Tensor) -> Tensor:
        """Region weights of one image.

        Args:
            priors (Tensor): (A, 5) rbox priors (angle 0) or (A, 4) xyxy, all levels in order.
            num_level_priors (Sequence[int]): priors per level, summing to A.
            gt_bboxes (Tensor): (G, 5) GT rboxes.

        Returns:
            Tensor: (A,) fp32 weight, the largest qualifying IoU; > 0 exactly on the region.
        """
        A = priors.shape[0]
        if gt_bboxes.shape[0] == 0 or A == 0:
            return priors.new_zeros((A,), dtype=torch.float32)
        p = rbox_axis_boxes(priors.float(), 'ignore_angle') if priors.shape[-1] == 5 else priors.float()
        g = rbox_axis_boxes(gt_bboxes.float(), self.region_gt)
        p_ctr = (p[:, :2] + p[:, 2:]) / 2
        best = p.new_zeros((A,))
        # GTs in chunks: every step below is per GT column, so chunking is exact and bounds the (A, G)
        # temporaries (a 1024 px image has ~196k anchors; dense DOTA patches have hundreds of GTs)
        for start in range(0, g.shape[0], self.gt_chunk):
            gc = g[start:start + self.gt_chunk]
            iou, _ = hbox_iou_diou(p, gc)  # (A, g) plain IoU
            dist = torch.cdist(p_ctr, (gc[:, :2] + gc[:, 2:]) / 2)
            thr = atss_thresholds(iou, dist, num_level_priors, self.topk)  # (g,)
            ok = iou >= self.alpha * thr[None]
            best = torch.maximum(best, torch.where(ok, iou, iou.new_zeros(())).max(dim=1).values)
        return best


@TASK_UTILS.register_module()
class InsideGTRegion:
    """Remaining negatives inside a GT of one image (see module docstring); horizontal GTs.

    Args:
        box_type (str): must be ``'hbox'`` (set by the head that builds the distiller).

    The distiller passes ``quality`` (``needs_quality``); the ATSS thresholds are not used.
    """

    needs_quality = True
    exclude_pos = True  # positives are never remaining negatives (read by show_distill_regions)

    def __init__(self, box_type: str = 'hbox') -> None:
        if box_type != 'hbox':
            raise ValueError(f'InsideGTRegion is defined on horizontal GTs; got box_type={box_type!r}')
        self.box_type = box_type

    def __call__(self, priors: Tensor, num_level_priors: Sequence[int], gt_bboxes: Tensor,
                 pos_mask: Tensor | None = None, thresholds: Tensor | None = None,
                 quality: Tensor | None = None) -> Tensor:
        """Region weights of one image.

        Args:
            priors (Tensor): (A, 4) xyxy prior boxes (their centres are the points).
            num_level_priors (Sequence[int]): priors per level (unused: the rule is level-free).
            gt_bboxes (Tensor): (G, 4) xyxy.
            pos_mask (Tensor, optional): (A,) bool positives (never in the region).
            thresholds: unused (the signature of the region strategies).
            quality (Tensor): (A,) fp32 weight per prior (the student's quality).

        Returns:
            Tensor: (A,) fp32, ``quality`` on the region, 0 elsewhere.
        """
        if quality is None:
            raise ValueError('InsideGTRegion weights priors by the student quality: pass quality=')
        A = priors.shape[0]
        if A == 0 or gt_bboxes.shape[0] == 0:
            return priors.new_zeros(A, dtype=torch.float32)
        c = box_centers(priors.float())[:, None, :]
        g = gt_bboxes.float()[None]
        d = torch.stack([c[..., 0] - g[..., 0], c[..., 1] - g[..., 1],
                         g[..., 2] - c[..., 0], g[..., 3] - c[..., 1]], -1)  # (A, G, 4)
        inside = (d.min(-1).values > 0).any(1)
        if pos_mask is not None:
            inside &= ~pos_mask
        return torch.where(inside, quality.float(), quality.new_zeros((), dtype=torch.float32))


# ------------------------------------------------------------------------------------ records
@dataclass
class RegionInputs:
    """What a head knows about a batch, for :meth:`LDDistiller.regions`. Rows: ``B`` images × ``A`` priors.

    Attributes:
        prior_boxes (Tensor): (A, 4) xyxy (GFL square priors) or (A, 5) rboxes (RetinaNet anchors).
        num_level_priors (list[int]): priors per level, summing to A.
        level_ids (Tensor): (A,) long FPN level of each prior.
        gt_bboxes (list[Tensor]): per image (G_i, 4) xyxy or (G_i, 5) rboxes (the head's convention).
        pos_mask (Tensor): (B, A) bool positives of the assigner.
        pos_weight (Tensor): (B, A) fp32 Main weight on positives (GFL quality, or 1).
        valid_mask (Tensor, optional): (B, A) bool priors inside the padded image (default all).
        thresholds (list, optional): per image (G_i,) ATSS thresholds of the assigner (over the valid
            priors), reused by the VLR.
        label_weights (Tensor, optional): (B, A) > 0 where the prior is labelled (not ignored).
        quality (Tensor, optional): (B, A) fp32 ``max_c σ(sg(cls))`` at every prior (regions weighted
            by the student's quality, :class:`InsideGTRegion`).
    """
    prior_boxes: Tensor
    num_level_priors: list
    level_ids: Tensor
    gt_bboxes: list
    pos_mask: Tensor
    pos_weight: Tensor
    valid_mask: Optional[Tensor] = None
    thresholds: Optional[list] = None
    label_weights: Optional[Tensor] = None
    quality: Optional[Tensor] = None


@dataclass
class DistillRegions:
    """Regions of a batch, one row per prior (``P = B·A``, image-major). ``None`` = term not used.

    Attributes:
        main_mask (Tensor): (P,) bool rows of Main LD.
        main_weight (Tensor): (P,) fp32 Main LD weight (0 outside the region).
        vlr_weight (Tensor, optional): (P,) fp32 VLR weight (> 0 exactly on the VLR).
        kd_mask (Tensor): (P,) bool rows of Main KD.
        kd_weight (Tensor): (P,) fp32 weight of Main KD rows (1, or the region weight).
        level_ids (Tensor): (P,) long FPN level of each row.
        num_levels (int): number of levels.
        im_mask (Tensor, optional): (P,) bool feature-imitation rows (head-specific, see ``LDHead``).
        im_bg_mask (Tensor, optional): (P,) bool decouple background (padding left out).
    """
    main_mask: Tensor
    main_weight: Tensor
    vlr_weight: Optional[Tensor]
    kd_mask: Tensor
    kd_weight: Tensor
    level_ids: Tensor
    num_levels: int
    im_mask: Optional[Tensor] = None
    im_bg_mask: Optional[Tensor] = None
