"""``LDDistiller``: every distillation term of LD in one object, shared by all LD heads.

The head flattens student and teacher outputs over images and levels into per-location rows
(``P`` rows), selects the regions (Main = positives with quality weights ``w_i``, VLR with IoU
weights ``v_i``, imitation masks) and calls the distiller once:

=============  ============================  ===========================  ==========================
key            rows                          weight per row               normalisation (default)
=============  ============================  ===========================  ==========================
loss_ld        positive box distributions    ``w_i`` (quality)            ``Σ / ld_divisor`` (4)
loss_ld_vlr    VLR box distributions         ``v_i`` (IoU)                ``Σ / ld_vlr_divisor`` (16)
loss_kd        positive class logits         1                            Σ over levels of level mean
loss_kd_vlr    VLR class logits              1                            Σ over levels of level mean
loss_im        imitation features            1 (bg 2 for decouple)        Σ over levels of MSE mean
=============  ============================  ===========================  ==========================

Each term is a loss module from the config (``KnowledgeDistillationKLDivLoss`` with its own
``loss_weight``, ``T``, ``bin_reduction``; ``IMLoss``); a term configured ``None`` is absent from
the output, a term with ``loss_weight=0`` is returned as an exact 0 (still in the graph) and not
computed. ``ld_normalize='mean'`` divides the LD sums by the (GPU-averaged) Σ weight instead of
a constant — independent of images per GPU (ld-method.md §2, §10).

Box-type-agnostic: a row of ``student_reg`` holds ``E`` distributions of ``num_bins`` bins
(E = 4 edges for GFL, 5 deltas for the rotated RetinaNet; an angle head uses a second distiller
with ``suffix='_angle'`` and ``E = 1``).
"""
from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from rotated_ld.registry import MODELS, TASK_UTILS

from .functional import level_mean
from .imitation import canonical_imitation_method
from .regions import VLRRegion  # noqa: F401  (registers VLRRegion)

LD_NORMALIZE = ('sum', 'mean')
KD_NORMALIZE = ('level_mean', 'mean', 'sum')

# reference defaults (HikariTJU/LD LDHead for GFL; ld-method.md §4 table)
DEFAULT_LD = dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.25, T=10)
DEFAULT_LD_VLR = dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.25, T=10)
DEFAULT_KD = dict(type='KnowledgeDistillationKLDivLoss', loss_weight=10, T=2)
DEFAULT_KD_VLR = dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0, T=2)
DEFAULT_IM = dict(type='IMLoss', loss_weight=2.0)
DEFAULT_VLR = dict(type='VLRRegion', topk=9, alpha=0.25, overlap='diou', exclude_pos=True)


def _zero(ref: Tensor) -> Tensor:
    """An exact 0 connected to ``ref``'s graph (keeps DDP happy about unused parameters)."""
    return ref.sum().float() * 0


def _build_loss(cfg: dict | nn.Module | None) -> nn.Module | None:
    if cfg is None or isinstance(cfg, nn.Module):
        return cfg
    # imported here: the loss modules import .functional of this package (no import cycle)
    from ..losses import im_loss, kd_loss  # noqa: F401  (register IMLoss, KD-KL loss)
    return MODELS.build(copy.deepcopy(cfg))


@MODELS.register_module()
class LDDistiller(nn.Module):
    """Main/VLR localization distillation, Main/VLR logit KD and feature imitation.

    Args:
        loss_ld (dict | None): Main LD (default weight 0.25, T 10).
        loss_ld_vlr (dict | None): VLR LD (default 0.25, T 10).
        loss_kd (dict | None): Main KD on class logits (default 10, T 2).
        loss_kd_vlr (dict | None): VLR KD (default weight 0, as in every committed reference).
        loss_im (dict | None): ``IMLoss`` config (used only with an ``imitation_method``).
        imitation_method (str | None): ``fitnet | ingt | finegrained | decouple | gibox``.
        vlr (dict): ``VLRRegion`` config the head uses to select the VLR.
        ld_normalize (str): ``'sum'`` (reference) or ``'mean'`` (divide by Σ weight).
        ld_divisor (float): Main LD divisor in ``'sum'`` mode (4 = edges, reference).
        ld_vlr_divisor (float): VLR LD divisor in ``'sum'`` mode (16, reference).
        kd_normalize (str): ``'level_mean'`` (reference) | ``'mean'`` | ``'sum'``.
        im_bg_weight (float): background weight of ``'decouple'`` (2).
        suffix (str): appended to every key (``'_angle'`` → ``loss_ld_angle`` ...).
    """

    def __init__(self,
                 loss_ld: dict | None = DEFAULT_LD,
                 loss_ld_vlr: dict | None = DEFAULT_LD_VLR,
                 loss_kd: dict | None = DEFAULT_KD,
                 loss_kd_vlr: dict | None = DEFAULT_KD_VLR,
                 loss_im: dict | None = DEFAULT_IM,
                 imitation_method: str | None = None,
                 vlr: dict | None = DEFAULT_VLR,
                 ld_normalize: str = 'sum',
                 ld_divisor: float = 4.0,
                 ld_vlr_divisor: float = 16.0,
                 kd_normalize: str = 'level_mean',
                 im_bg_weight: float = 2.0,
                 suffix: str = '') -> None:
        super().__init__()
        if ld_normalize not in LD_NORMALIZE:
            raise ValueError(f'ld_normalize={ld_normalize!r}; expected one of {LD_NORMALIZE}')
        if kd_normalize not in KD_NORMALIZE:
            raise ValueError(f'kd_normalize={kd_normalize!r}; expected one of {KD_NORMALIZE}')
        self.loss_ld = _build_loss(loss_ld)
        self.loss_ld_vlr = _build_loss(loss_ld_vlr)
        self.loss_kd = _build_loss(loss_kd)
        self.loss_kd_vlr = _build_loss(loss_kd_vlr)
        self.imitation_method = canonical_imitation_method(imitation_method)
        self.loss_im = _build_loss(loss_im) if self.imitation_method else None
        self.vlr = TASK_UTILS.build(copy.deepcopy(vlr)) if (vlr is not None and self.needs_vlr) else None
        if self.needs_vlr and self.vlr is None:
            raise ValueError('a VLR loss is configured but vlr=None')
        self.ld_normalize = ld_normalize
        self.ld_divisor = float(ld_divisor)
        self.ld_vlr_divisor = float(ld_vlr_divisor)
        self.kd_normalize = kd_normalize
        self.im_bg_weight = float(im_bg_weight)
        self.suffix = suffix

    # ----------------------------------------------------------------- what the head must supply
    @staticmethod
    def _active(loss: nn.Module | None) -> bool:
        return loss is not None and getattr(loss, 'loss_weight', 1.0) != 0

    @property
    def needs_vlr(self) -> bool:
        """True when a VLR term has a non-zero weight (the head then computes VLR weights)."""
        return self._active(self.loss_ld_vlr) or self._active(self.loss_kd_vlr)

    @property
    def needs_cls(self) -> bool:
        return self._active(self.loss_kd) or self._active(self.loss_kd_vlr)

    @property
    def needs_feats(self) -> bool:
        """True when feature imitation is on (the detector must pass both FPN outputs)."""
        return self.imitation_method is not None and self._active(self.loss_im)

    # ------------------------------------------------------------------------------- terms
    def ld_term(self, loss: nn.Module, student: Tensor, teacher: Tensor, num_bins: int,
                mask: Tensor, weight: Tensor, divisor: float,
                avg_factor: float | Tensor | None = None) -> Tensor:
        """Σ over selected rows of ``weight_i · Σ_e KL_ie``, normalised by mode.

        Args:
            loss (nn.Module): a KD-KL loss module (applies ``loss_weight``, ``T``, bins).
            student, teacher (Tensor): (P, E * num_bins) distribution logits.
            num_bins (int): bins per distribution.
            mask (Tensor): (P,) bool rows of the region.
            weight (Tensor): (P,) weight per row.
            divisor (float): constant divisor of ``'sum'`` mode.
            avg_factor (float | Tensor, optional): divisor of ``'mean'`` mode (default Σ weight
                of the selected rows); the sum over ``E`` becomes a mean over ``E`` there.
        """
        if not self._active(loss) or not bool(mask.any()):
            return _zero(student)
        s = student[mask].reshape(-1, num_bins)
        t = teacher[mask].reshape(-1, num_bins)
        E = s.shape[0] // int(mask.sum())
        w = weight[mask].float()
        per_edge = loss(s, t, reduction_override='none').reshape(-1, E)
        if self.ld_normalize == 'sum':
            return (per_edge.sum(1) * w).sum() / divisor
        if avg_factor is None:
            avg_factor = w.sum()
        return (per_edge.mean(1) * w).sum() / torch.as_tensor(avg_factor).clamp(min=1e-6)

    def kd_term(self, loss: nn.Module, student: Tensor, teacher: Tensor, mask: Tensor,
                level_ids: Tensor | None, num_levels: int | None) -> Tensor:
        """KD on class logits of the masked rows, reduced by ``kd_normalize``."""
        if not self._active(loss) or not bool(mask.any()):
            return _zero(student)
        per_row = loss(student[mask], teacher[mask], reduction_override='none')
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
                pos_mask: Tensor, pos_weight: Tensor, vlr_weight: Tensor | None = None,
                student_cls: Tensor | None = None, teacher_cls: Tensor | None = None,
                level_ids: Tensor | None = None, num_levels: int | None = None,
                student_feats: Tensor | None = None, teacher_feats: Tensor | None = None,
                im_mask: Tensor | None = None, im_bg_mask: Tensor | None = None,
                avg_factor: float | Tensor | None = None,
                vlr_avg_factor: float | Tensor | None = None) -> dict[str, Tensor]:
        """All configured distillation losses.

        Args:
            student_reg (Tensor): (P, E * num_bins) student distribution logits.
            teacher_reg (Tensor): (P, E * num_bins) teacher distribution logits.
            num_bins (int): bins per distribution (``reg_max + 1``).
            pos_mask (Tensor): (P,) bool Main region (positives).
            pos_weight (Tensor): (P,) Main-region weight ``w_i`` (quality).
            vlr_weight (Tensor, optional): (P,) VLR weights ``v_i`` (> 0 on the VLR).
            student_cls, teacher_cls (Tensor, optional): (P, C) class logits (KD).
            level_ids (Tensor, optional): (P,) long FPN level per row (KD/IM level means).
            num_levels (int, optional): number of levels.
            student_feats, teacher_feats (Tensor, optional): (P, Cf) FPN features (imitation).
            im_mask (Tensor, optional): (P,) bool imitation rows (decouple: foreground).
            im_bg_mask (Tensor, optional): (P,) bool decouple background (default ``~im_mask``;
                pass ``valid & ~im_mask`` to leave padding out).
            avg_factor, vlr_avg_factor: divisors of ``ld_normalize='mean'`` (GPU-averaged Σw).

        Returns:
            dict[str, Tensor]: ``loss_ld``, ``loss_ld_vlr``, ``loss_kd``, ``loss_kd_vlr``,
            ``loss_im`` (each present when configured), keys suffixed with ``suffix``.
        """
        if student_reg.shape != teacher_reg.shape:
            raise ValueError(f'student reg {tuple(student_reg.shape)} vs teacher reg '
                             f'{tuple(teacher_reg.shape)}: teacher and student must share '
                             'reg_max and the prior layout')
        if vlr_weight is None:
            vlr_weight = pos_weight.new_zeros(pos_weight.shape)
        vlr_mask = vlr_weight > 0
        sfx = self.suffix
        out: dict[str, Tensor] = {}
        if self.loss_ld is not None:
            out['loss_ld' + sfx] = self.ld_term(self.loss_ld, student_reg, teacher_reg, num_bins,
                                                pos_mask, pos_weight, self.ld_divisor, avg_factor)
        if self.loss_ld_vlr is not None:
            out['loss_ld_vlr' + sfx] = self.ld_term(
                self.loss_ld_vlr, student_reg, teacher_reg, num_bins, vlr_mask, vlr_weight,
                self.ld_vlr_divisor, vlr_avg_factor)
        for key, loss, mask in (('loss_kd', self.loss_kd, pos_mask),
                                ('loss_kd_vlr', self.loss_kd_vlr, vlr_mask)):
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
            out[key + sfx] = self.kd_term(loss, student_cls, teacher_cls, mask, level_ids,
                                          num_levels)
        if self.imitation_method is not None and self.loss_im is not None:
            if self.needs_feats and (student_feats is None or teacher_feats is None
                                     or im_mask is None):
                raise ValueError('feature imitation needs student_feats, teacher_feats, im_mask')
            ref = student_feats if student_feats is not None else student_reg
            out['loss_im' + sfx] = (self.im_term(student_feats, teacher_feats, im_mask,
                                                 level_ids, num_levels, im_bg_mask)
                                    if self.needs_feats else _zero(ref))
        return out
