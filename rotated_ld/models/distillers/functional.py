"""Pure tensor maths of distillation: temperature-softened KL over rows of logits.

One function serves every term of LD (ld-method.md §2, §4, §9.3):

* box-edge distributions: rows of ``reg_max + 1`` bin logits (LD, VLR LD),
* class logits: rows of ``C`` logits, softmax across classes (Main KD, VLR KD),
* rotated heads: angle bins (cyclic; KL is invariant to a common cyclic shift of the bins, so no
  wrap-around handling is needed) and the 5 RetinaNet delta distributions.

Everything is computed in fp32 whatever the input dtype (AMP safe), the teacher side is always
detached, and the result is ``T² · KL(softmax(t/T) ‖ softmax(s/T))`` per row, either summed over
the bins (true KL) or averaged (``bin_reduction='mean'``: the reference's ``1/K`` factor, which the
published loss weights were tuned with).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

BIN_REDUCTIONS = ('mean', 'sum')


def distribution_kl(student_logits: Tensor,
                    teacher_logits: Tensor,
                    T: float = 1.0,
                    bin_reduction: str = 'mean') -> Tensor:
    """Row-wise ``T² · KL(softmax(t/T) ‖ softmax(s/T))``.

    Args:
        student_logits (Tensor): (R, K) logits of the student (gradients flow here).
        teacher_logits (Tensor): (R, K) logits of the teacher (detached here).
        T (float): temperature > 0.
        bin_reduction (str): ``'mean'`` divides the KL sum by ``K`` (reference behaviour,
            HikariTJU/LD and mmdet ``KnowledgeDistillationKLDivLoss``); ``'sum'`` is the true KL.

    Returns:
        Tensor: (R,) fp32 loss per row, ≥ 0.
    """
    if bin_reduction not in BIN_REDUCTIONS:
        raise ValueError(f'bin_reduction={bin_reduction!r}; expected one of {BIN_REDUCTIONS}')
    if T <= 0:
        raise ValueError(f'T={T!r}; the temperature must be > 0')
    if student_logits.shape != teacher_logits.shape:
        raise ValueError('student and teacher logits differ in shape: '
                         f'{tuple(student_logits.shape)} vs {tuple(teacher_logits.shape)} '
                         '(teacher and student must share reg_max / classes / bins)')
    K = student_logits.shape[-1]
    if student_logits.numel() == 0:
        return student_logits.float().sum(-1)
    log_ps = F.log_softmax(student_logits.float() / T, dim=-1)
    log_pt = F.log_softmax(teacher_logits.detach().float() / T, dim=-1)
    # pT·(log pT − log pS); pT·log pT is exact (no 0·log 0 issue: log_softmax is finite)
    kl = (log_pt.exp() * (log_pt - log_ps)).sum(-1)
    if bin_reduction == 'mean':
        kl = kl / K
    return kl * (T * T)


def weighted_reduce(loss: Tensor,
                    weight: Tensor | None = None,
                    reduction: str = 'mean',
                    avg_factor: float | Tensor | None = None) -> Tensor:
    """mmdet-style ``weight_reduce_loss``: multiply, then ``'none'``, ``'sum'`` or ``'mean'``.

    With ``avg_factor`` and ``reduction='mean'`` the sum is divided by ``avg_factor`` instead of
    the number of elements (the reference's ``avg_factor=4.0`` for Main LD).
    """
    if weight is not None:
        loss = loss * weight.to(loss.dtype)
    if reduction == 'none':
        return loss
    if reduction == 'sum':
        return loss.sum()
    if reduction != 'mean':
        raise ValueError(f"reduction={reduction!r}; expected 'none', 'sum' or 'mean'")
    if avg_factor is None:
        return loss.mean() if loss.numel() else loss.sum()
    return loss.sum() / (avg_factor + torch.finfo(torch.float32).eps)


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
