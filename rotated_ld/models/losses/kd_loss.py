"""Knowledge-distillation KL loss used by LD (box distributions) and KD (class logits).

``loss = loss_weight · reduce(w_r · T² · KL(softmax(t_r/T) ‖ softmax(s_r/T)))`` over rows ``r``.
Registered under the mmdet name ``KnowledgeDistillationKLDivLoss`` (so mmdet LD configs carry
over) and the short alias ``KDLoss``. The maths is :func:`distribution_kl` below (fp32, teacher
detached): the one KL of the project, used by every LD, VLR, KD and angle term.

Differences from mmdet: ``bin_reduction`` (``'mean'`` reproduces mmdet/HikariTJU, whose KL is
averaged over the K bins — a 1/K factor the published weights were tuned with; ``'sum'`` is the
true KL, use ``loss_weight / K`` to match) and the fp32 cast.
"""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from rotated_ld.registry import MODELS

from .utils import weight_reduce_loss

BIN_REDUCTIONS = ('mean', 'sum')


def distribution_kl(student_logits: Tensor,
                    teacher_logits: Tensor,
                    T: float = 1.0,
                    bin_reduction: str = 'mean') -> Tensor:
    """Row-wise ``T² · KL(softmax(t/T) ‖ softmax(s/T))``.

    One function serves every distillation term: box-edge distributions (rows of ``reg_max + 1``
    bins), class logits (rows of ``C``, softmax across classes), the rotated heads' angle bins (KL is
    invariant to a common cyclic shift of the bins, so the circle needs no wrap-around handling) and
    the RetinaNet's 5 delta distributions.

    Args:
        student_logits (Tensor): (R, K) logits of the student (gradients flow here).
        teacher_logits (Tensor): (R, K) logits of the teacher (detached here).
        T (float): temperature > 0.
        bin_reduction (str): ``'mean'`` divides the KL sum by ``K`` (reference behaviour,
            HikariTJU/LD and mmdet ``KnowledgeDistillationKLDivLoss``); ``'sum'`` is the true KL.

    Returns:
        Tensor: (R,) fp32 loss per row, ≥ 0 (fp32 whatever the input dtype: AMP safe).
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


@MODELS.register_module('KDLoss')
@MODELS.register_module()
class KnowledgeDistillationKLDivLoss(nn.Module):
    """Temperature-softened KL divergence between teacher and student logits.

    Args:
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'`` over rows.
        loss_weight (float): multiplier of the loss.
        T (float): temperature (10 for LD edges, 2 for KD classes in the reference).
        bin_reduction (str): ``'mean'`` (reference, 1/K) or ``'sum'`` (true KL) over the K logits.

    Example:
        >>> loss = KnowledgeDistillationKLDivLoss(loss_weight=0.25, T=10)
        >>> s, t = torch.randn(8, 17), torch.randn(8, 17)
        >>> loss(s, t, avg_factor=4.0).shape
        torch.Size([])
    """

    def __init__(self, reduction: str = 'mean', loss_weight: float = 1.0, T: float = 10.0,
                 bin_reduction: str = 'mean') -> None:
        super().__init__()
        if T < 1:
            # mmdet asserts T >= 1 as well; a T < 1 sharpens instead of softening
            raise ValueError(f'T={T!r}; expected a temperature >= 1')
        self.reduction = reduction
        self.loss_weight = float(loss_weight)
        self.T = float(T)
        self.bin_reduction = bin_reduction
        if bin_reduction not in BIN_REDUCTIONS:
            raise ValueError(f'bin_reduction={bin_reduction!r}; expected one of {BIN_REDUCTIONS}')

    def forward(self, pred: Tensor, soft_label: Tensor, weight: Tensor | None = None,
                avg_factor: float | Tensor | None = None,
                reduction_override: str | None = None) -> Tensor:
        """Args: pred (R, K) student logits; soft_label (R, K) teacher logits; weight (R,).

        Returns: scalar, or (R,) with ``reduction='none'`` — fp32.
        """
        reduction = reduction_override or self.reduction
        loss = distribution_kl(pred, soft_label, T=self.T, bin_reduction=self.bin_reduction)
        return self.loss_weight * weight_reduce_loss(loss, weight, reduction, avg_factor)

    def extra_repr(self) -> str:
        return (f'loss_weight={self.loss_weight}, T={self.T}, '
                f'bin_reduction={self.bin_reduction!r}, reduction={self.reduction!r}')

