"""Rotated-LD head: localization distillation (LD) + logit KD on the rotated RetinaNet with
distribution deltas, as published (Zzh-tju/Rotated-LD ``LDRotatedRetinaHead``; ld-method.md §9.2),
with JDet's variant (``ld_rotated_retinanet``, §9.1) as a configuration.

Both terms use the project's one KL (``KnowledgeDistillationKLDivLoss`` →
``distillers.functional.distribution_kl``: ``T²·KL(softmax(t/T) ‖ softmax(s/T))``, fp32, teacher
detached, averaged over the bins as the references):

* **LD**: on every one of the 5 delta distributions (dx, dy, dw, dh, da; ``reg_max + 1`` bins),
  ``Σ_i w_i · Σ_e KL_ie``;
* **KD**: on the ``C`` class logits (softmax across classes), ``Σ_i w_i · KL_i``.

Regions and weights (``region``):

* ``'rotated_ld'`` (Rotated-LD, default): per image, ``IoU[a, g]`` is the **axis-aligned** IoU of
  prior ``a`` with GT ``g`` where the GT box is ``(cx ± w/2, cy ± h/2)`` — the angle is ignored,
  as the reference does (``region_gt='circumscribed'`` uses the GT's circumscribed horizontal
  box instead); ``thr_g`` = mean + std of the IoUs of the 9 priors per level whose centres are
  nearest the GT's (ATSS threshold, ``distillers.atss_thresholds``); prior ``a`` is in the region
  iff ``IoU[a, g] ≥ α·thr_g`` for some ``g`` (α = 0.25; no upper bound, so positives are in);
  its weight is the largest such IoU. The same region and weights serve LD and KD.
  Normalisation ``'level'`` (reference): each level's sum is divided by the number of region
  priors of that level in the batch (the reference computes the loss per level with
  ``avg_factor = #region priors of the level``) — i.e. weight ``w_i / n_level(i)``.
* ``'positives'`` (JDet): LD on the max-IoU positives with weight 1; KD on every prior with
  label weight > 0 (positives and negatives, the 0.4–0.5 ignore band excluded); normalisation
  ``'mean'``: JDet's element-wise mean, i.e. LD ``Σ_i Σ_e KL_ie / (5·#pos)`` and KD
  ``Σ_i KL_i / #rows``.

The region rule of Rotated-LD (lower bound only, axis-aligned GT) is not one of the distillers
package's regions (its ``VLRRegion`` has an upper bound ``< thr`` and a DIoU score), so
:func:`rotated_ld_region` is written here on top of ``distillers.atss_thresholds`` and
``distillers.hbox_iou_diou``.
"""
from __future__ import annotations

import copy
from typing import Optional, Sequence

import torch
from torch import Tensor

from rotated_ld.registry import MODELS

from ..distillers import atss_thresholds, hbox_iou_diou
from .rotated_retina_head import FlatOutputs, RetinaTargets, RotatedRetinaHead

REGIONS = ('rotated_ld', 'positives')
REGION_GTS = ('ignore_angle', 'circumscribed')
NORMALIZE = ('level', 'mean')


def rboxes_as_hboxes(rboxes: Tensor, mode: str = 'ignore_angle') -> Tensor:
    """(N, 5) rboxes → (N, 4) xyxy: ``(cx ± w/2, cy ± h/2)`` (``'ignore_angle'``, Rotated-LD)
    or the circumscribed horizontal box (``'circumscribed'``)."""
    if mode == 'circumscribed':
        from rotated_ld.structures.bbox import rbox2hbox

        return rbox2hbox(rboxes)
    if mode != 'ignore_angle':
        raise ValueError(f'region_gt={mode!r}; expected one of {REGION_GTS}')
    c, wh = rboxes[:, :2], rboxes[:, 2:4]
    return torch.cat([c - wh / 2, c + wh / 2], dim=1)


def rotated_ld_region(priors: Tensor, num_level_priors: Sequence[int], gt_bboxes: Tensor,
                      alpha: float = 0.25, topk: int = 9, region_gt: str = 'ignore_angle',
                      gt_chunk: int = 64) -> Tensor:
    """Rotated-LD distillation region of one image (see module docstring).

    Args:
        priors (Tensor): (A, 5) rbox priors (angle 0) or (A, 4) xyxy, all levels in order.
        num_level_priors (Sequence[int]): priors per level, summing to A.
        gt_bboxes (Tensor): (G, 5) GT rboxes.
        alpha (float): lower-bound factor of the ATSS threshold (0.25).
        topk (int): priors per level entering the threshold (9).
        region_gt (str): ``'ignore_angle'`` (reference) or ``'circumscribed'``.
        gt_chunk (int): GTs processed at once (memory bound only; the result does not depend on it).

    Returns:
        Tensor: (A,) fp32 weight, the largest qualifying IoU; > 0 exactly on the region.
    """
    A = priors.shape[0]
    if gt_bboxes.shape[0] == 0 or A == 0:
        return priors.new_zeros((A,), dtype=torch.float32)
    p = rboxes_as_hboxes(priors.float(), 'ignore_angle') if priors.shape[-1] == 5 else priors.float()
    g = rboxes_as_hboxes(gt_bboxes.float(), region_gt)
    p_ctr = (p[:, :2] + p[:, 2:]) / 2
    best = p.new_zeros((A,))
    # GTs in chunks: every step below is per GT column, so chunking is exact and bounds the (A, G)
    # temporaries (a 1024 px image has ~196k anchors; dense DOTA patches have hundreds of GTs)
    for start in range(0, g.shape[0], gt_chunk):
        gc = g[start:start + gt_chunk]
        iou, _ = hbox_iou_diou(p, gc)  # (A, g) plain IoU
        dist = torch.cdist(p_ctr, (gc[:, :2] + gc[:, 2:]) / 2)
        thr = atss_thresholds(iou, dist, num_level_priors, topk)  # (g,)
        ok = iou >= alpha * thr[None]
        best = torch.maximum(best, torch.where(ok, iou, iou.new_zeros(())).max(dim=1).values)
    return best


@MODELS.register_module()
class RotatedLDRetinaHead(RotatedRetinaHead):
    """Student head of Rotated-LD: :class:`RotatedRetinaHead` + LD on the delta distributions +
    KD on the class logits (see module docstring).

    Args:
        loss_ld (dict): KD-KL loss on the 5 delta distributions. Default weight 15, T 5 (Rotated-LD
            KLD student; GWD student: 10, T 5; JDet: 10, T 10).
        loss_kd (dict): KD-KL loss on class logits. Default weight 15, T 5 (GWD student: 20, T 5;
            JDet: 10, T 2).
        region (str): ``'rotated_ld'`` (default) or ``'positives'`` (JDet).
        region_alpha (float): α of the ``rotated_ld`` rule. Default 0.25.
        region_topk (int): ATSS candidates per level. Default 9.
        region_gt (str): ``'ignore_angle'`` (reference) or ``'circumscribed'``.
        normalize (str): ``'level'`` (Rotated-LD) or ``'mean'`` (JDet).
        **kwargs: :class:`RotatedRetinaHead` arguments; ``reg_max`` must be set.
    """

    def __init__(self, *args,
                 loss_ld: Optional[dict] = None,
                 loss_kd: Optional[dict] = None,
                 region: str = 'rotated_ld',
                 region_alpha: float = 0.25,
                 region_topk: int = 9,
                 region_gt: str = 'ignore_angle',
                 normalize: str = 'level',
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.reg_max is None:
            raise ValueError('RotatedLDRetinaHead distils delta distributions: set reg_max (8 as the references)')
        for name, value, valid in (('region', region, REGIONS), ('region_gt', region_gt, REGION_GTS),
                                   ('normalize', normalize, NORMALIZE)):
            if value not in valid:
                raise ValueError(f'{name}={value!r}; expected one of {valid}')
        from ..losses import kd_loss  # noqa: F401  (registers KnowledgeDistillationKLDivLoss)

        kl = dict(type='KnowledgeDistillationKLDivLoss', T=5)
        self.loss_ld = MODELS.build(copy.deepcopy(loss_ld) if loss_ld else dict(kl, loss_weight=15))
        self.loss_kd = MODELS.build(copy.deepcopy(loss_kd) if loss_kd else dict(kl, loss_weight=15))
        self.region = region
        self.region_alpha = region_alpha
        self.region_topk = region_topk
        self.region_gt = region_gt
        self.normalize = normalize

    def region_weights(self, flat: FlatOutputs, targets: RetinaTargets) -> tuple[Tensor, Tensor]:
        """LD and KD weights (B, N) before normalisation."""
        if self.region == 'positives':
            return targets.pos_mask.float(), (targets.label_weights > 0).float()
        w = torch.stack([rotated_ld_region(flat.priors, flat.num_level_priors, gts, self.region_alpha,
                                           self.region_topk, self.region_gt) for gts in targets.gt_bboxes])
        return w, w

    def _normalised(self, w: Tensor, num_level_priors: Sequence[int], rows_per_prior: int) -> Tensor:
        """(B, N) weights → weights whose plain sum is the configured normalisation."""
        if self.normalize == 'mean':
            return w / (rows_per_prior * (w > 0).sum()).clamp(min=1)
        level = torch.repeat_interleave(torch.arange(len(num_level_priors), device=w.device),
                                        torch.as_tensor(num_level_priors, device=w.device))
        counts = torch.zeros(len(num_level_priors), device=w.device).index_add(
            0, level, (w > 0).float().sum(0))
        return w / counts.clamp(min=1)[level][None]

    def _extra_losses(self, flat: FlatOutputs, targets: RetinaTargets, teacher_outs=None, **extra) -> dict:
        """``loss_ld`` and ``loss_kd`` against the teacher head's outputs ``(cls_list, reg_list)``, plus
        ``ld_da`` (logged, not optimised): the part of ``loss_ld`` that comes from the angle delta."""
        if teacher_outs is None:
            raise ValueError('RotatedLDRetinaHead.loss needs teacher_outs (train it inside KDSingleStageDetector)')
        t_cls, t_reg = self.flatten(*teacher_outs[:2])
        if t_reg.shape != flat.reg.shape or t_cls.shape != flat.cls.shape:
            raise ValueError(f'teacher outputs cls {tuple(t_cls.shape)} / reg {tuple(t_reg.shape)} differ from '
                             f'the student\'s {tuple(flat.cls.shape)} / {tuple(flat.reg.shape)}: teacher and '
                             'student must share anchors, reg_max and classes')
        w_ld, w_kd = self.region_weights(flat, targets)
        E, R = 5, self.reg_max + 1
        w_ld = self._normalised(w_ld, flat.num_level_priors, E if self.normalize == 'mean' else 1)
        w_kd = self._normalised(w_kd, flat.num_level_priors, 1)
        losses = {}
        m = w_ld > 0
        if bool(m.any()):
            per_row = self.loss_ld(flat.reg[m].reshape(-1, R), t_reg[m].reshape(-1, R),
                                   reduction_override='none').reshape(-1, E)
            losses['loss_ld'] = (per_row.sum(1) * w_ld[m]).sum()
            # the da distribution's share of loss_ld, logged only (no 'loss' in the key: not added to
            # the total twice); loss_ld itself stays the published 5-distribution sum
            losses['ld_da'] = (per_row[:, 4] * w_ld[m]).sum().detach()
        else:
            losses['loss_ld'] = flat.reg.sum().float() * 0
            losses['ld_da'] = losses['loss_ld'].detach()
        m = w_kd > 0
        if bool(m.any()):
            per_row = self.loss_kd(flat.cls[m], t_cls[m], reduction_override='none')
            losses['loss_kd'] = (per_row * w_kd[m]).sum()
        else:
            losses['loss_kd'] = flat.cls.sum().float() * 0
        return losses
