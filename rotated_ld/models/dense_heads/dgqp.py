"""DGQP: the Distribution-Guided Quality Predictor of GFLv2 (the quality branch option of :class:`GFLHead`).

Generalized Focal Loss V2 (Li et al., CVPR 2021, arXiv 2011.12885): the localization quality of a
location is predicted from the *shape* of its four edge distributions — a sharp distribution means a
confident edge. Per edge, the softmax over the ``R = reg_max + 1`` bins is summarised by its top-k
probabilities (``reg_topk``, default 4) and, with ``add_mean``, their mean; the ``4·(k + 1)``
statistics go through ``1×1 conv → ReLU → 1×1 conv → sigmoid`` to a quality ``q ∈ (0, 1)``, and the
class score becomes ``σ(cls) · q`` (trained jointly by QFL, exactly as GFL's IoU-joint score).

Checkpoint layout as the GFocalV2 / HikariTJU/LD ``GFocalHead``: the module is an ``nn.Sequential``
named ``reg_conf`` on the head with ``reg_conf.0`` (conv ``4(k+1) → reg_channels``), ``reg_conf.1``
(ReLU), ``reg_conf.2`` (conv ``reg_channels → 1``); upstream's parameterless ``reg_conf.3``
(``Sigmoid``) is applied in :meth:`DGQP.forward` as ``logsigmoid``, so the key names are identical.

Why log-odds: the head returns ``logit(σ(cls) · q)`` instead of the probability, so that every consumer
of GFL class logits (QFL on logits, ``σ`` at inference, the quality weights ``max_c σ``, the LD engine's
KD) works unchanged and gives what upstream computes on probabilities (``σ(logit(p)) = p``).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rotated_ld.registry import MODELS

#: upper bound of log p for the joint log-odds (p ≤ 1 − 1e-6): keeps ``log(1 − p)`` and its gradient finite
_MAX_LOG_P = math.log1p(-1e-6)


def log1mexp(a: Tensor) -> Tensor:
    """``log(1 − exp(a))`` for ``a < 0``, accurate on both sides of ``−ln 2`` (Mächler 2012)."""
    return torch.where(a > -math.log(2.0), torch.log(-torch.expm1(a)), torch.log1p(-torch.exp(a)))


def joint_log_odds(cls_logits: Tensor, log_quality: Tensor) -> Tensor:
    """``logit(σ(cls_logits) · exp(log_quality))`` computed in log space (fp32).

    Args:
        cls_logits (Tensor): (B, C, H, W) class logits.
        log_quality (Tensor): (B, 1, H, W) ``log q``, broadcast over the classes.

    Returns:
        Tensor: (B, C, H, W) fp32 log-odds of the joint score ``p = σ(cls) · q`` (p clamped to
        ``1 − 1e-6``).
    """
    log_p = (F.logsigmoid(cls_logits.float()) + log_quality.float()).clamp(max=_MAX_LOG_P)
    return log_p - log1mexp(log_p)


@MODELS.register_module()
class DGQP(nn.Sequential):
    """Distribution-guided quality predictor (GFLv2).

    Args:
        reg_max: ``n`` of the head (``R = n + 1`` bins per edge); set by the head.
        reg_topk: ``k``, the top-k probabilities taken per edge (4).
        reg_channels: hidden width (64).
        add_mean: append the mean of the top-k per edge (True): ``4·(k + 1)`` input statistics.

    Example:
        >>> import torch
        >>> q = DGQP(reg_max=16)
        >>> tuple(q.statistics(torch.zeros(2, 68, 3, 5)).shape), tuple(q(torch.zeros(2, 68, 3, 5)).shape)
        ((2, 20, 3, 5), (2, 1, 3, 5))
    """

    def __init__(self, reg_max: int = 16, reg_topk: int = 4, reg_channels: int = 64, add_mean: bool = True):
        if not 1 <= reg_topk <= reg_max + 1:
            raise ValueError(f'reg_topk={reg_topk}: expected 1..reg_max + 1 = {reg_max + 1}')
        total_dim = reg_topk + int(add_mean)
        super().__init__(nn.Conv2d(4 * total_dim, reg_channels, 1), nn.ReLU(inplace=True),
                         nn.Conv2d(reg_channels, 1, 1))
        self.reg_max, self.reg_topk, self.add_mean = reg_max, reg_topk, add_mean
        self.total_dim, self.reg_channels = total_dim, reg_channels
        for m in (self[0], self[2]):  # GFocalV2 init: normal(0, 0.01), bias 0
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)

    def statistics(self, bbox_pred: Tensor) -> Tensor:
        """(B, 4R, H, W) edge logits → (B, 4·(k + 1), H, W) statistics (edge-major: for each edge of
        ``l, t, r, b`` its k largest probabilities in decreasing order, then their mean)."""
        B, _, H, W = bbox_pred.shape
        prob = F.softmax(bbox_pred.float().reshape(B, 4, self.reg_max + 1, H, W), dim=2)
        stat = prob.topk(self.reg_topk, dim=2).values
        if self.add_mean:
            stat = torch.cat([stat, stat.mean(dim=2, keepdim=True)], dim=2)
        return stat.reshape(B, 4 * self.total_dim, H, W)

    def forward(self, bbox_pred: Tensor) -> Tensor:
        """(B, 4R, H, W) edge logits → (B, 1, H, W) ``log q`` (q = the predicted quality)."""
        return F.logsigmoid(super().forward(self.statistics(bbox_pred)))

    def joint_logits(self, cls_logits: Tensor, bbox_pred: Tensor) -> Tensor:
        """(B, C, H, W) class logits, (B, 4R, H, W) edge logits → (B, C, H, W) fp32 log-odds of
        ``σ(cls) · q`` (what the GFLv2 head returns as its class scores)."""
        return joint_log_odds(cls_logits, self(bbox_pred))
