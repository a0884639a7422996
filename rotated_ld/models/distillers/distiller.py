"""``LDDistiller``: the one LD engine — regions and every distillation term, for every LD head.

A head describes its batch once (:class:`~.regions.RegionInputs`: priors, GTs, positives, the
assigner's thresholds), the distiller turns that into :class:`~.regions.DistillRegions`
(:meth:`LDDistiller.regions`, also what ``tools/analysis_tools/show_distill_regions.py`` draws
through each head's ``distill_regions()``), and :meth:`LDDistiller.forward` turns flattened
student/teacher rows (``P = B·A``) + regions into the loss dict:

=============  ============================  ===========================  ==========================
key            rows                          weight per row               normalisation (default)
=============  ============================  ===========================  ==========================
loss_ld        Main box distributions        Main weight (``w_i``)        ``Σ / ld_divisor`` (4)
loss_ld_vlr    VLR box distributions         ``v_i`` (IoU)                ``Σ / ld_vlr_divisor`` (16)
loss_kd        Main KD class logits          1 (or the region weight)     Σ over levels of level mean
loss_kd_vlr    VLR class logits              1                            Σ over levels of level mean
loss_im        imitation features            1 (bg 2 for decouple)        Σ over levels of MSE mean
=============  ============================  ===========================  ==========================

The three LD families are configurations of this one class (defaults below, written once):

* horizontal LD (``LDHead``) and the edges of the angle-aware rotated LD (``RotatedLDHead``):
  :data:`GFL_DISTILLER` — Main = positives with quality weights, VLR, KD (HikariTJU/LD values);
* the angle of the rotated LD: :data:`ANGLE_DISTILLER` — ``loss_ld_angle`` / ``loss_ld_vlr_angle``
  on the angle bins, true KL (``bin_reduction='sum'``), 0.015, T 5, divisors 1 and 4;
* the LD repository's ATSS / FCOS students (``LDATSSHead`` / ``LDFCOSHead``): :data:`ATSS_DISTILLER`
  / :data:`FCOS_DISTILLER` — GFL's Main LD and KD plus ``loss_ld_neg`` on the remaining negatives
  (the VLR, resp. :class:`~.regions.InsideGTRegion`) at 0.15 / 0.25 × the LD weight, divisor 4;
* the published Rotated-LD RetinaNet: :data:`ROTATED_LD_RETINA_DISTILLER` — Main =
  :class:`~.regions.RotatedLDRegion` for LD and KD alike (KD weighted by the region weight),
  ``'level_mean'`` normalisation (each level's sum divided by its region size), 15 / 15, T 5,
  and ``ld_da`` logged (the angle delta's share of ``loss_ld``, not optimised twice).
  JDet's variant: ``region=None`` (positives, weight 1), ``kd_region='labelled'``, ``'mean'``;
* the LD repository's horizontal RetinaNet student (``LDRetinaHead``): :data:`LD_RETINA_DISTILLER` —
  Main = positives with quality weights, VLR on the anchors, KD on the positives.

A term configured ``None`` is absent from the output; a term with ``loss_weight=0`` is returned as
an exact 0 (still in the graph, DDP-safe) and not computed. Box-type-agnostic: a row of
``student_reg`` holds ``E`` distributions of ``num_bins`` bins (4 edges, 5 deltas, 1 angle).
"""
from __future__ import annotations

import copy
from typing import Optional

import torch
from torch import Tensor, nn

from rotated_ld.registry import MODELS, TASK_UTILS

from ..losses import IMLoss, KnowledgeDistillationKLDivLoss  # noqa: F401  (registered for _build_loss)
from .imitation import canonical_imitation_method
from .regions import (  # noqa: F401  (registered in TASK_UTILS)
                      BOX_TYPES,
                      DistillRegions,
                      InsideGTRegion,
                      RegionInputs,
                      RotatedLDRegion,
                      VLRRegion,
)

LD_NORMALIZE = ('sum', 'mean', 'level_mean')
KD_NORMALIZE = ('level_mean', 'mean', 'sum')
KD_REGIONS = ('main', 'labelled')
KD_WEIGHTS = ('one', 'region')

# ------------------------------------------------------------------ defaults (the one copy)
_KL = 'KnowledgeDistillationKLDivLoss'
#: HikariTJU/LD ``LDHead`` (GFL): Main LD 0.25 T 10 (Σ/4), VLR LD 0.25 T 10 (Σ/16), KD 10 T 2, VLR KD 0
GFL_DISTILLER = dict(
    type='LDDistiller',
    loss_ld=dict(type=_KL, loss_weight=0.25, T=10),
    loss_ld_vlr=dict(type=_KL, loss_weight=0.25, T=10),
    loss_kd=dict(type=_KL, loss_weight=10, T=2),
    loss_kd_vlr=dict(type=_KL, loss_weight=0, T=2),
    loss_im=dict(type='IMLoss', loss_weight=2.0),
    vlr=dict(type='VLRRegion', topk=9, alpha=0.25, overlap='diou', exclude_pos=True))
#: angle LD of ``RotatedLDHead``: true KL over the K bins, 0.015 ≈ 0.25/17 per distribution, T 5,
#: divisor 1 on Main (one distribution per location; the edges' 4 cover 4), 4 on the VLR (16/4)
ANGLE_DISTILLER = dict(
    type='LDDistiller',
    loss_ld=dict(type=_KL, loss_weight=0.015, T=5, bin_reduction='sum'),
    loss_ld_vlr=dict(type=_KL, loss_weight=0.015, T=5, bin_reduction='sum'),
    loss_kd=None, loss_kd_vlr=None, loss_im=None,
    vlr=GFL_DISTILLER['vlr'],
    ld_divisor=1.0, ld_vlr_divisor=4.0, suffix='_angle')
#: Zzh-tju/Rotated-LD ``LDRotatedRetinaHead`` (KLD student): LD and KD 15, T 5, one region, per level
ROTATED_LD_RETINA_DISTILLER = dict(
    type='LDDistiller',
    loss_ld=dict(type=_KL, loss_weight=15, T=5),
    loss_ld_vlr=None,
    loss_kd=dict(type=_KL, loss_weight=15, T=5),
    loss_kd_vlr=None, loss_im=None, vlr=None,
    region=dict(type='RotatedLDRegion', alpha=0.25, topk=9, region_gt='ignore_angle'),
    ld_normalize='level_mean', kd_normalize='level_mean', kd_weight='region',
    log_shares=dict(ld_da=4))
#: HikariTJU/LD ``LDATSSHead``: GFL's Main LD and KD; its "remaining negatives" term is the VLR
#: (positives excluded here) at 0.15 × the LD loss with the reference divisor 4 (not 16)
ATSS_DISTILLER = dict(
    GFL_DISTILLER,
    loss_ld_vlr=dict(type=_KL, loss_weight=0.25 * 0.15, T=10),
    loss_kd_vlr=None, ld_vlr_divisor=4.0, vlr_name='loss_ld_neg')
#: HikariTJU/LD ``LDFCOSHead``: Main LD and KD as GFL; remaining negatives = points inside a GT that
#: are not positive (:class:`InsideGTRegion`), weighted by the student quality, 0.25 × the LD loss, Σ/4
FCOS_DISTILLER = dict(
    ATSS_DISTILLER,
    loss_ld_vlr=dict(type=_KL, loss_weight=0.25 * 0.25, T=10),
    vlr=dict(type='InsideGTRegion'))

#: HikariTJU/LD ``LDRetinaHead`` (``configs/ld/ld_retina_r50_1x.py``): Main LD 5 T 10 (positives, weight
#: ``max_c σ(cls)``, Σ/4), its ``loss_ld_neg`` = VLR LD at 0.03 × the Main weight (0.15) T 10 with Σ/4, Main KD
#: 10 T 8 on the positives (Σ over levels of the level mean); the VLR is computed on the anchors
LD_RETINA_DISTILLER = dict(
    type='LDDistiller',
    loss_ld=dict(type=_KL, loss_weight=5, T=10),
    loss_ld_vlr=dict(type=_KL, loss_weight=0.15, T=10),
    loss_kd=dict(type=_KL, loss_weight=10, T=8),
    loss_kd_vlr=None, loss_im=None,
    vlr=GFL_DISTILLER['vlr'],
    ld_divisor=4.0, ld_vlr_divisor=4.0)


def distiller_cfg(base: dict, override: Optional[dict] = None) -> dict:
    """``base`` updated key by key with ``override`` (a config's ``distiller=dict(...)``); a loss
    given without ``type`` is merged into the base loss (``loss_ld=dict(loss_weight=0)``)."""
    out = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and 'type' not in value:
            out[key] = dict(out[key], **value)
        else:
            out[key] = copy.deepcopy(value)
    return out


# ------------------------------------------------------------------ config keys before `distiller=`
#: keys LDHead took directly (plus ``distill_cfg``) before the one ``distiller=dict(...)`` shape
GFL_HEAD_KEYS = ('loss_ld', 'loss_ld_vlr', 'loss_kd', 'loss_kd_vlr', 'loss_im', 'imitation_method', 'vlr')
#: keys RotatedLDRetinaHead took directly
RETINA_HEAD_KEYS = ('loss_ld', 'loss_kd', 'region', 'region_alpha', 'region_topk', 'region_gt', 'normalize')
RETINA_REGIONS = ('rotated_ld', 'positives')
RETINA_NORMALIZE = {'level': 'level_mean', 'mean': 'mean'}


def pop_gfl_head_keys(kwargs: dict) -> dict:
    """Remove the old LDHead keys from ``kwargs`` and return them as a ``distiller`` override."""
    over = {k: kwargs.pop(k) for k in GFL_HEAD_KEYS if k in kwargs}
    over.update(kwargs.pop('distill_cfg', None) or {})
    return over


def pop_retina_head_keys(kwargs: dict) -> dict:
    """Remove the old RotatedLDRetinaHead keys from ``kwargs`` and return a ``distiller`` override.

    ``region='rotated_ld'`` + ``region_alpha/topk/gt`` → ``region=dict(type='RotatedLDRegion', ...)``
    (KD weighted by the region); ``region='positives'`` (JDet) → ``region=None`` (positives, weight
    1) with KD on every labelled prior; ``normalize='level'|'mean'`` → ``'level_mean'|'mean'`` for LD and KD.
    """
    old = {k: kwargs.pop(k) for k in RETINA_HEAD_KEYS if k in kwargs}
    over = {k: old[k] for k in ('loss_ld', 'loss_kd') if old.get(k)}
    region = old.get('region', 'rotated_ld')
    if region not in RETINA_REGIONS:
        raise ValueError(f'region={region!r}; expected one of {RETINA_REGIONS}')
    if region == 'positives':
        over.update(region=None, kd_region='labelled', kd_weight='one')
    elif any(k in old for k in ('region_alpha', 'region_topk', 'region_gt')):
        over['region'] = dict(type='RotatedLDRegion', alpha=old.get('region_alpha', 0.25),
                              topk=old.get('region_topk', 9), region_gt=old.get('region_gt', 'ignore_angle'))
    if 'normalize' in old:
        if old['normalize'] not in RETINA_NORMALIZE:
            raise ValueError(f"normalize={old['normalize']!r}; expected one of {tuple(RETINA_NORMALIZE)}")
        over['ld_normalize'] = over['kd_normalize'] = RETINA_NORMALIZE[old['normalize']]
    return over


def _zero(ref: Tensor) -> Tensor:
    """An exact 0 connected to ``ref``'s graph (keeps DDP happy about unused parameters)."""
    return ref.sum().float() * 0


def _build_loss(cfg: dict | nn.Module | None) -> nn.Module | None:
    if cfg is None or isinstance(cfg, nn.Module):
        return cfg
    return MODELS.build(copy.deepcopy(cfg))


def level_mean(values: Tensor, level_ids: Tensor, num_levels: int | None = None) -> Tensor:
    """``Σ_ℓ mean_{i ∈ level ℓ} values_i`` (empty levels contribute 0).

    Args:
        values (Tensor): (M,) per-row losses of the selected rows.
        level_ids (Tensor): (M,) long, FPN level of each row.
        num_levels (int, optional): number of levels (default ``max(level_ids) + 1``).
    """
    if values.numel() == 0:
        return values.sum()
    n = int(num_levels if num_levels is not None else int(level_ids.max()) + 1)
    sums = values.new_zeros(n).index_add(0, level_ids, values)
    counts = torch.bincount(level_ids, minlength=n).to(values.dtype)
    return (sums / counts.clamp(min=1)).sum()


@MODELS.register_module()
class LDDistiller(nn.Module):
    """Localization distillation (Main / VLR), logit KD (Main / VLR) and feature imitation.

    Args:
        loss_ld (dict | None): Main LD (default 0.25, T 10).
        loss_ld_vlr (dict | None): VLR LD (default 0.25, T 10).
        loss_kd (dict | None): Main KD on class logits (default 10, T 2).
        loss_kd_vlr (dict | None): VLR KD (default weight 0, as in every committed reference).
        loss_im (dict | None): ``IMLoss`` config (used only with an ``imitation_method``).
        imitation_method (str | None): ``fitnet | ingt | finegrained | decouple | gibox``.
        vlr (dict | None): ``VLRRegion`` config.
        region (dict | None): Main region strategy: ``None`` = the head's positives with the head's
            weight; ``dict(type='RotatedLDRegion', ...)`` = the published Rotated-LD rule.
        kd_region (str): rows of Main KD: ``'main'`` (the Main region) or ``'labelled'`` (every prior
            with label weight > 0, JDet).
        kd_weight (str): ``'one'`` or ``'region'`` (Main KD rows weighted by the Main weight).
        ld_normalize (str): ``'sum'`` (Σ / divisor, reference), ``'mean'`` (Σ / Σ weight, mean over
            the ``E`` distributions) or ``'level_mean'`` (Σ over levels of the level's mean).
        ld_divisor (float): Main LD divisor in ``'sum'`` mode (4 = edges, reference).
        ld_vlr_divisor (float): VLR LD divisor in ``'sum'`` mode (16, reference).
        kd_normalize (str): ``'level_mean'`` (reference) | ``'mean'`` | ``'sum'``.
        im_bg_weight (float): background weight of ``'decouple'`` (2).
        suffix (str): appended to every key (``'_angle'`` → ``loss_ld_angle`` ...).
        log_shares (dict, optional): ``{name: e}`` logs the part of ``loss_ld`` that comes from
            distribution ``e`` under ``name`` (detached, no ``loss`` in the name).
        vlr_name (str): key of the second LD region's term (``'loss_ld_vlr'``; the ATSS / FCOS
            students of the LD repository call their down-weighted negatives term ``'loss_ld_neg'``).
        box_type (str): ``'hbox'`` | ``'rbox'``: the head's GT box type (picks the VLR overlaps);
            set by the head, not by configs.
    """

    def __init__(self,
                 loss_ld: dict | None = GFL_DISTILLER['loss_ld'],
                 loss_ld_vlr: dict | None = GFL_DISTILLER['loss_ld_vlr'],
                 loss_kd: dict | None = GFL_DISTILLER['loss_kd'],
                 loss_kd_vlr: dict | None = GFL_DISTILLER['loss_kd_vlr'],
                 loss_im: dict | None = GFL_DISTILLER['loss_im'],
                 imitation_method: str | None = None,
                 vlr: dict | None = GFL_DISTILLER['vlr'],
                 region: dict | None = None,
                 kd_region: str = 'main',
                 kd_weight: str = 'one',
                 ld_normalize: str = 'sum',
                 ld_divisor: float = 4.0,
                 ld_vlr_divisor: float = 16.0,
                 kd_normalize: str = 'level_mean',
                 im_bg_weight: float = 2.0,
                 suffix: str = '',
                 log_shares: dict | None = None,
                 vlr_name: str = 'loss_ld_vlr',
                 box_type: str = 'hbox') -> None:
        super().__init__()
        for name, value, valid in (('ld_normalize', ld_normalize, LD_NORMALIZE),
                                   ('kd_normalize', kd_normalize, KD_NORMALIZE),
                                   ('kd_region', kd_region, KD_REGIONS), ('kd_weight', kd_weight, KD_WEIGHTS),
                                   ('box_type', box_type, BOX_TYPES)):
            if value not in valid:
                raise ValueError(f'{name}={value!r}; expected one of {valid}')
        self.loss_ld = _build_loss(loss_ld)
        self.loss_ld_vlr = _build_loss(loss_ld_vlr)
        self.loss_kd = _build_loss(loss_kd)
        self.loss_kd_vlr = _build_loss(loss_kd_vlr)
        self.imitation_method = canonical_imitation_method(imitation_method)
        self.loss_im = _build_loss(loss_im) if self.imitation_method else None
        self.box_type = box_type
        self.vlr = (TASK_UTILS.build(dict(copy.deepcopy(vlr), box_type=box_type))
                    if (vlr is not None and self.needs_vlr) else None)
        if self.needs_vlr and self.vlr is None:
            raise ValueError('a VLR loss is configured but vlr=None')
        self.region = TASK_UTILS.build(copy.deepcopy(region)) if region is not None else None
        self.kd_region, self.kd_weight = kd_region, kd_weight
        self.ld_normalize = ld_normalize
        self.ld_divisor = float(ld_divisor)
        self.ld_vlr_divisor = float(ld_vlr_divisor)
        self.kd_normalize = kd_normalize
        self.im_bg_weight = float(im_bg_weight)
        self.suffix = suffix
        self.log_shares = dict(log_shares or {})
        self.vlr_name = vlr_name

    # ----------------------------------------------------------------- what the head must supply
    @staticmethod
    def _active(loss: nn.Module | None) -> bool:
        return loss is not None and getattr(loss, 'loss_weight', 1.0) != 0

    @property
    def needs_vlr(self) -> bool:
        """True when a VLR term has a non-zero weight (the VLR is then computed)."""
        return self._active(self.loss_ld_vlr) or self._active(self.loss_kd_vlr)

    @property
    def needs_cls(self) -> bool:
        return self._active(self.loss_kd) or self._active(self.loss_kd_vlr)

    @property
    def needs_feats(self) -> bool:
        """True when feature imitation is on (the detector must pass both FPN outputs)."""
        return self.imitation_method is not None and self._active(self.loss_im)

    # ------------------------------------------------------------------------------- regions
    @torch.no_grad()
    def regions(self, inp: RegionInputs) -> DistillRegions:
        """Main, VLR and KD regions of a batch (imitation masks are the head's: ``im_mask=None``).

        Every per-image region is computed over the image's valid priors only (padding never
        enters a region nor the ATSS candidates), with the assigner's thresholds when given.
        """
        B, A = inp.pos_mask.shape
        device = inp.pos_mask.device
        pos_mask = inp.pos_mask.reshape(-1)
        main_weight = torch.where(pos_mask, inp.pos_weight.reshape(-1).float(),
                                  torch.zeros((), device=device))
        if self.region is not None:
            main_weight = self._per_image(inp, lambda pri, nlp, gts, i: self.region(pri, nlp, gts))
        main_mask = pos_mask if self.region is None else main_weight > 0
        vlr_weight = None
        if self.vlr is not None:
            def vlr_fn(pri, nlp, gts, i, vidx):
                thr = inp.thresholds[i] if inp.thresholds is not None else None
                kw = {}
                if getattr(self.vlr, 'needs_quality', False):  # InsideGTRegion: student-quality weights
                    if inp.quality is None:
                        raise ValueError(f'{type(self.vlr).__name__} needs RegionInputs.quality')
                    kw['quality'] = inp.quality[i, vidx]
                return self.vlr(pri, nlp, gts, inp.pos_mask[i, vidx], thresholds=thr, **kw)
            vlr_weight = self._per_image(inp, vlr_fn, with_index=True)
        if self.kd_region == 'labelled':
            if inp.label_weights is None:
                raise ValueError("kd_region='labelled' needs the head's label weights")
            kd_mask = inp.label_weights.reshape(-1) > 0
        else:
            kd_mask = main_mask
        kd_weight = main_weight if self.kd_weight == 'region' else torch.ones(B * A, device=device)
        return DistillRegions(main_mask=main_mask, main_weight=main_weight, vlr_weight=vlr_weight,
                              kd_mask=kd_mask, kd_weight=kd_weight,
                              level_ids=inp.level_ids.repeat(B), num_levels=len(inp.num_level_priors))

    @staticmethod
    def _per_image(inp: RegionInputs, fn, with_index: bool = False) -> Tensor:
        """(B·A,) fp32: ``fn`` of each image over its valid priors (all priors without a valid mask)."""
        B, A = inp.pos_mask.shape
        out = torch.zeros((B, A), dtype=torch.float32, device=inp.pos_mask.device)
        for i in range(B):
            gts = inp.gt_bboxes[i].to(out.device).float()
            if inp.valid_mask is None:
                vidx = torch.arange(A, device=out.device)
                pri, nlp = inp.prior_boxes, list(inp.num_level_priors)
            else:
                vidx = inp.valid_mask[i].nonzero().squeeze(1)
                pri = inp.prior_boxes[vidx]
                nlp = torch.bincount(inp.level_ids[vidx], minlength=len(inp.num_level_priors)).tolist()
            out[i, vidx] = fn(pri, nlp, gts, i, vidx) if with_index else fn(pri, nlp, gts, i)
        return out.reshape(-1)

    # ------------------------------------------------------------------------------- terms
    def _reduce_ld(self, per_row: Tensor, w: Tensor, divisor: float, avg_factor, level_ids: Tensor | None,
                   num_levels: int | None, E: int) -> Tensor:
        """Normalise ``per_row`` (M,) = Σ_e KL of each selected row (÷E in ``'mean'`` mode)."""
        if self.ld_normalize == 'sum':
            return (per_row * w).sum() / divisor
        if self.ld_normalize == 'level_mean':
            return level_mean(per_row * w, level_ids, num_levels)
        if avg_factor is None:
            avg_factor = w.sum()
        return (per_row / E * w).sum() / torch.as_tensor(avg_factor).clamp(min=1e-6)

    def ld_term(self, loss: nn.Module, student: Tensor, teacher: Tensor, num_bins: int,
                mask: Tensor, weight: Tensor, divisor: float,
                avg_factor: float | Tensor | None = None, level_ids: Tensor | None = None,
                num_levels: int | None = None, shares: dict | None = None) -> dict:
        """``{'': loss, name: share ...}``: Σ over selected rows of ``weight_i · Σ_e KL_ie``, normalised.

        Args:
            loss (nn.Module): a KD-KL loss module (applies ``loss_weight``, ``T``, bins).
            student, teacher (Tensor): (P, E * num_bins) distribution logits.
            num_bins (int): bins per distribution.
            mask (Tensor): (P,) bool rows of the region.
            weight (Tensor): (P,) weight per row.
            divisor (float): constant divisor of ``'sum'`` mode.
            avg_factor (float | Tensor, optional): divisor of ``'mean'`` mode (default Σ weight
                of the selected rows).
            level_ids, num_levels: (P,) levels of ``'level_mean'`` mode.
            shares (dict, optional): ``{name: e}`` also return distribution ``e``'s part (detached).
        """
        shares = shares or {}
        if not self._active(loss) or not bool(mask.any()):
            z = _zero(student)
            return {'': z, **{name: z.detach() for name in shares}}
        s = student[mask].reshape(-1, num_bins)
        t = teacher[mask].reshape(-1, num_bins)
        E = s.shape[0] // int(mask.sum())
        w = weight[mask].float()
        lv = level_ids[mask] if level_ids is not None else None
        per_edge = loss(s, t, reduction_override='none').reshape(-1, E)
        out = {'': self._reduce_ld(per_edge.sum(1), w, divisor, avg_factor, lv, num_levels, E)}
        for name, e in shares.items():
            out[name] = self._reduce_ld(per_edge[:, e], w, divisor, avg_factor, lv, num_levels, E).detach()
        return out

    def kd_term(self, loss: nn.Module, student: Tensor, teacher: Tensor, mask: Tensor,
                level_ids: Tensor | None, num_levels: int | None,
                weight: Tensor | None = None) -> Tensor:
        """KD on class logits of the masked rows (optionally weighted), reduced by ``kd_normalize``."""
        if not self._active(loss) or not bool(mask.any()):
            return _zero(student)
        per_row = loss(student[mask], teacher[mask], reduction_override='none')
        if weight is not None:
            per_row = per_row * weight[mask].float()
        if self.kd_normalize == 'sum':
            return per_row.sum()
        if self.kd_normalize == 'mean' or level_ids is None:
            return per_row.mean()
        return level_mean(per_row, level_ids[mask], num_levels)

    def im_term(self, student: Tensor, teacher: Tensor, fg_mask: Tensor,
                level_ids: Tensor | None, num_levels: int | None,
                bg_mask: Tensor | None = None) -> Tensor:
        """Per-level MSE mean over the imitated rows, summed over levels (decouple: + bg·w)."""
        if not self.needs_feats:
            return _zero(student)
        if level_ids is None:
            level_ids = fg_mask.new_zeros(fg_mask.shape, dtype=torch.long)
        n = int(num_levels if num_levels is not None else int(level_ids.max()) + 1)
        parts = [(fg_mask, 1.0)]
        if self.imitation_method == 'decouple':
            parts.append((~fg_mask if bg_mask is None else bg_mask, self.im_bg_weight))
        total = _zero(student)
        for region, scale in parts:
            for lvl in range(n):
                m = region & (level_ids == lvl)
                if bool(m.any()):
                    total = total + scale * self.loss_im(student[m], teacher[m])
        return total

    # ------------------------------------------------------------------------------- forward
    def forward(self, *, student_reg: Tensor, teacher_reg: Tensor, num_bins: int,
                regions: DistillRegions | None = None,
                student_cls: Tensor | None = None, teacher_cls: Tensor | None = None,
                student_feats: Tensor | None = None, teacher_feats: Tensor | None = None,
                avg_factor: float | Tensor | None = None,
                vlr_avg_factor: float | Tensor | None = None,
                pos_mask: Tensor | None = None, pos_weight: Tensor | None = None,
                vlr_weight: Tensor | None = None, level_ids: Tensor | None = None,
                num_levels: int | None = None, im_mask: Tensor | None = None,
                im_bg_mask: Tensor | None = None) -> dict[str, Tensor]:
        """All configured distillation losses.

        Args:
            student_reg (Tensor): (P, E * num_bins) student distribution logits.
            teacher_reg (Tensor): (P, E * num_bins) teacher distribution logits.
            num_bins (int): bins per distribution (``reg_max + 1``, or ``K`` angle bins).
            regions (DistillRegions): from :meth:`regions` (+ the head's imitation masks).
            student_cls, teacher_cls (Tensor, optional): (P, C) class logits (KD).
            student_feats, teacher_feats (Tensor, optional): (P, Cf) FPN features (imitation).
            avg_factor, vlr_avg_factor: divisors of ``ld_normalize='mean'`` (GPU-averaged Σw).
            pos_mask, pos_weight, vlr_weight, level_ids, num_levels, im_mask, im_bg_mask: the
                regions as loose tensors instead of ``regions`` (Main = positives, KD on Main).

        Returns:
            dict[str, Tensor]: ``loss_ld``, ``loss_ld_vlr``, ``loss_kd``, ``loss_kd_vlr``,
            ``loss_im`` (each present when configured), keys suffixed with ``suffix``, and the
            ``log_shares`` names.
        """
        if student_reg.shape != teacher_reg.shape:
            raise ValueError(f'student reg {tuple(student_reg.shape)} vs teacher reg '
                             f'{tuple(teacher_reg.shape)}: teacher and student must share '
                             'reg_max and the prior layout')
        if regions is None:
            if pos_mask is None or pos_weight is None:
                raise ValueError('give regions= (LDDistiller.regions) or pos_mask= and pos_weight=')
            regions = DistillRegions(pos_mask, pos_weight, vlr_weight, pos_mask,
                                     torch.ones_like(pos_weight, dtype=torch.float32), level_ids,
                                     num_levels, im_mask, im_bg_mask)
        r = regions
        vlr_w = r.vlr_weight if r.vlr_weight is not None else torch.zeros_like(r.main_weight)
        vlr_mask = vlr_w > 0
        sfx = self.suffix
        out: dict[str, Tensor] = {}
        if self.loss_ld is not None:
            terms = self.ld_term(self.loss_ld, student_reg, teacher_reg, num_bins, r.main_mask,
                                 r.main_weight, self.ld_divisor, avg_factor, r.level_ids, r.num_levels,
                                 self.log_shares)
            out['loss_ld' + sfx] = terms.pop('')
            out.update(terms)
        if self.loss_ld_vlr is not None:
            out[self.vlr_name + sfx] = self.ld_term(
                self.loss_ld_vlr, student_reg, teacher_reg, num_bins, vlr_mask, vlr_w,
                self.ld_vlr_divisor, vlr_avg_factor, r.level_ids, r.num_levels)['']
        kd_weight = r.kd_weight if self.kd_weight == 'region' else None
        for key, loss, mask, weight in (('loss_kd', self.loss_kd, r.kd_mask, kd_weight),
                                        ('loss_kd_vlr', self.loss_kd_vlr, vlr_mask, None)):
            if loss is None:
                continue
            if student_cls is None or teacher_cls is None:
                if self._active(loss):
                    raise ValueError(f'{key} is configured but no class logits were given')
                out[key + sfx] = _zero(student_reg)
                continue
            if student_cls.shape != teacher_cls.shape:
                raise ValueError(f'student cls {tuple(student_cls.shape)} vs teacher cls '
                                 f'{tuple(teacher_cls.shape)}: class counts differ')
            out[key + sfx] = self.kd_term(loss, student_cls, teacher_cls, mask, r.level_ids,
                                          r.num_levels, weight)
        if self.imitation_method is not None and self.loss_im is not None:
            if self.needs_feats and (student_feats is None or teacher_feats is None
                                     or r.im_mask is None):
                raise ValueError('feature imitation needs student_feats, teacher_feats, im_mask')
            ref = student_feats if student_feats is not None else student_reg
            out['loss_im' + sfx] = (self.im_term(student_feats, teacher_feats, r.im_mask,
                                                 r.level_ids, r.num_levels, r.im_bg_mask)
                                    if self.needs_feats else _zero(ref))
        return out


__all__ = ['LDDistiller', 'GFL_DISTILLER', 'ANGLE_DISTILLER', 'ROTATED_LD_RETINA_DISTILLER',
           'LD_RETINA_DISTILLER', 'ATSS_DISTILLER', 'FCOS_DISTILLER', 'distiller_cfg', 'level_mean']
