"""Gaussian distance losses for rotated boxes: GWD (Yang et al., ICML 2021) and KLD (NeurIPS 2021).

A rotated box ``(cx, cy, w, h, t)`` becomes a 2-D Gaussian ``N(μ, Σ)`` with ``μ = (cx, cy)`` and
``Σ = R(t)·diag(w²/4, h²/4)·R(t)ᵀ``. Two families are provided, matching mmrotate's defaults:

``GDLoss`` (mmrotate ``gaussian_dist_loss.py``; used by Rotated-LD's GWD configs, weight 5):
  * ``gwd``: ``d = sqrt(|μp − μt|² + α²·(tr Σp + tr Σt − 2·sqrt(tr(Σp Σt) + 2·sqrt(det Σp det Σt))))``,
    divided by ``2·(det Σp det Σt)^(1/8)`` when ``normalize`` (default) — the closed form of the
    2-Wasserstein distance for 2×2 covariances. Symmetric in (pred, target).
  * ``kld``: ``KL(N_t ‖ N_p) = ½ Δᵀ Σp⁻¹ Δ / α² + ½ tr(Σp⁻¹ Σt) + ½ ln(det Σp / det Σt) − 1``,
    then ``sqrt`` (default). Not symmetric.
  * ``jd``: ``½(KL(t‖p) + KL(p‖t))`` then ``sqrt``; symmetric.
  then ``postprocess``: ``f = log1p | sqrt | none`` and, if ``tau ≥ 1``, ``1 − 1/(tau + f(d))``.
  Defaults: ``fun='log1p'``, ``tau=0`` (so the loss is ``log1p(d)``).

``GDLoss_v1`` (mmrotate ``gaussian_dist_loss_v1.py``; Rotated-LD's KLD configs: ``kld``,
``fun='log1p'``, ``tau=1``):
  * ``kld``: ``D = Δᵀ Σt⁻¹ Δ + tr(Σt⁻¹ Σp) + ln(det Σt / det Σp) − 2`` (= ``2·KL(N_p ‖ N_t)``),
  * ``gwd``: ``D = |μp − μt|² + tr Σp + tr Σt − 2·sqrt(tr(Σp Σt) + 2·sqrt(det Σp det Σt))``
    (squared distance, not normalised),
  clamped at 1e-6, then ``1 − 1/(tau + sqrt(D))`` (``fun='sqrt'``) or ``1 − 1/(tau + log1p(D))``.
  Difference from mmrotate: v1 there returns the *unreduced* per-box vector (which the runner then
  averages) and ignores ``avg_factor``; here both classes reduce like every other loss
  (``weight``, ``avg_factor``), so ``reduction='mean'`` + ``avg_factor=#pos`` gives the same mean.

Boxes are only evaluated where ``weight > 0`` (zero-size rows of unassigned priors would make
``Σ`` singular); rows outside get loss 0.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from rotated_ld.registry import MODELS

from .utils import weight_reduce_loss

FUNS = ('log1p', 'sqrt', 'none')


def rbox2gaussian(rboxes: Tensor) -> tuple[Tensor, Tensor]:
    """``(..., 5)`` rboxes → ``μ (..., 2)``, ``Σ (..., 2, 2)``; w, h clamped to [1e-7, 1e7]."""
    if rboxes.size(-1) != 5:
        raise ValueError(f'expected (..., 5) rboxes, got {tuple(rboxes.shape)}')
    xy = rboxes[..., :2]
    wh = rboxes[..., 2:4].clamp(min=1e-7, max=1e7)
    cos, sin = torch.cos(rboxes[..., 4]), torch.sin(rboxes[..., 4])
    R = torch.stack([cos, -sin, sin, cos], -1).reshape(*rboxes.shape[:-1], 2, 2)
    S = torch.diag_embed(wh.square() * 0.25)
    return xy, R @ S @ R.transpose(-1, -2)


def _det(s: Tensor) -> Tensor:
    return s[..., 0, 0] * s[..., 1, 1] - s[..., 0, 1] * s[..., 1, 0]


def _trace(s: Tensor) -> Tensor:
    return s[..., 0, 0] + s[..., 1, 1]


def _inv(s: Tensor) -> Tensor:
    adj = torch.stack([s[..., 1, 1], -s[..., 0, 1], -s[..., 1, 0], s[..., 0, 0]], -1)
    return adj.reshape(s.shape) / _det(s)[..., None, None]


def _gwd_whr(sp: Tensor, st: Tensor) -> tuple[Tensor, Tensor]:
    """Covariance part of W₂² (2×2 closed form) and ``sqrt(det Σp det Σt)``."""
    det_sqrt = (_det(sp) * _det(st)).clamp(min=0).sqrt()
    cross = (_trace(sp @ st) + 2 * det_sqrt).clamp(min=0).sqrt()
    return _trace(sp) + _trace(st) - 2 * cross, det_sqrt


def postprocess(distance: Tensor, fun: str = 'log1p', tau: float = 1.0) -> Tensor:
    """``f(distance)`` (``log1p`` | ``sqrt`` | ``none``), then ``1 − 1/(tau + ·)`` if ``tau ≥ 1``."""
    if fun == 'log1p':
        distance = torch.log1p(distance)
    elif fun == 'sqrt':
        distance = torch.sqrt(distance)
    elif fun != 'none':
        raise ValueError(f'fun={fun!r}; expected one of {FUNS}')
    return 1 - 1 / (tau + distance) if tau >= 1.0 else distance


def gwd_distance(pred: Tensor, target: Tensor, alpha: float = 1.0, normalize: bool = True) -> Tensor:
    """mmrotate ``GDLoss`` GWD distance of ``(N, 5)`` rboxes → ``(N,)`` (see module docstring)."""
    mp, sp = rbox2gaussian(pred)
    mt, st = rbox2gaussian(target)
    whr, det_sqrt = _gwd_whr(sp, st)
    distance = ((mp - mt).square().sum(-1) + alpha * alpha * whr).clamp(min=0).sqrt()
    if normalize:
        distance = distance / (2 * det_sqrt.sqrt().sqrt().clamp(min=1e-7))
    return distance


def kld_distance(pred: Tensor, target: Tensor, alpha: float = 1.0, sqrt: bool = True) -> Tensor:
    """mmrotate ``GDLoss`` KLD: ``KL(N_target ‖ N_pred)`` of ``(N, 5)`` rboxes → ``(N,)``."""
    mp, sp = rbox2gaussian(pred)
    mt, st = rbox2gaussian(target)
    sp_inv = _inv(sp)
    d = (mp - mt).unsqueeze(-1)
    xy = 0.5 * (d.transpose(-1, -2) @ sp_inv @ d)[..., 0, 0]
    whr = 0.5 * _trace(sp_inv @ st) + 0.5 * (_det(sp).log() - _det(st).log()) - 1
    distance = xy / (alpha * alpha) + whr
    return distance.clamp(min=0).sqrt() if sqrt else distance


def jd_distance(pred: Tensor, target: Tensor, alpha: float = 1.0, sqrt: bool = True) -> Tensor:
    """Symmetric (Jeffreys) KLD ``½(KL(t‖p) + KL(p‖t))``, optionally ``sqrt``."""
    jd = 0.5 * (kld_distance(pred, target, alpha, sqrt=False) + kld_distance(target, pred, alpha, sqrt=False))
    return jd.clamp(min=0).sqrt() if sqrt else jd


def kld_v1_distance(pred: Tensor, target: Tensor) -> Tensor:
    """mmrotate ``GDLoss_v1`` KLD: ``2·KL(N_pred ‖ N_target)`` clamped at 1e-6, ``(N,)``."""
    mp, sp = rbox2gaussian(pred)
    mt, st = rbox2gaussian(target)
    st_inv = _inv(st)
    d = (mp - mt).unsqueeze(-1)
    term1 = (d.transpose(-1, -2) @ st_inv @ d)[..., 0, 0]
    term2 = _trace(st_inv @ sp) + torch.log(_det(st) / _det(sp))
    return (term1 + term2 - 2).clamp(min=1e-6)


def gwd_v1_distance(pred: Tensor, target: Tensor) -> Tensor:
    """mmrotate ``GDLoss_v1`` GWD: squared Wasserstein distance (unnormalised), clamped at 1e-6."""
    mp, sp = rbox2gaussian(pred)
    mt, st = rbox2gaussian(target)
    whr, _ = _gwd_whr(sp, st)
    return ((mp - mt).square().sum(-1) + whr).clamp(min=1e-6)


def _masked(fn, pred: Tensor, target: Tensor, weight: Tensor | None) -> tuple[Tensor, Tensor | None]:
    """Evaluate ``fn`` on rows with ``weight > 0`` only; others get 0. Weight (N, 5) → mean."""
    dtype = torch.promote_types(pred.dtype, torch.float32)  # fp32 under AMP, fp64 kept
    pred, target = pred.to(dtype), target.to(dtype)
    if weight is not None and weight.dim() > 1:
        weight = weight.to(dtype).mean(-1)
    if weight is None:
        return fn(pred, target), None
    mask = weight > 0
    out = pred.new_zeros(pred.shape[:-1])
    if mask.any():
        out[mask] = fn(pred[mask], target[mask])
    return out, weight


class _GaussianLossBase(nn.Module):

    def __init__(self, loss_type: str, fun: str, tau: float, reduction: str, loss_weight: float) -> None:
        super().__init__()
        if loss_type not in self.LOSS_TYPES:
            raise ValueError(f'loss_type={loss_type!r}; expected one of {self.LOSS_TYPES}')
        if fun not in FUNS:
            raise ValueError(f'fun={fun!r}; expected one of {FUNS}')
        if reduction not in ('none', 'mean', 'sum'):
            raise ValueError(f"reduction={reduction!r}; expected 'none', 'mean' or 'sum'")
        self.loss_type = loss_type
        self.fun = fun
        self.tau = float(tau)
        self.reduction = reduction
        self.loss_weight = float(loss_weight)

    def _per_box(self, pred: Tensor, target: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self, pred: Tensor, target: Tensor, weight: Tensor | None = None,
                avg_factor: float | Tensor | None = None,
                reduction_override: str | None = None) -> Tensor:
        """Args:
            pred (Tensor): (N, 5) decoded rboxes (gradients flow here).
            target (Tensor): (N, 5) GT rboxes.
            weight (Tensor, optional): (N,) or (N, 5) (averaged over the last dim).
            avg_factor (float, optional): divisor of the sum for ``reduction='mean'``.

        Returns: scalar, or (N,) with ``reduction='none'``; at least fp32.
        """
        reduction = reduction_override or self.reduction
        loss, weight = _masked(self._per_box, pred, target, weight)
        return self.loss_weight * weight_reduce_loss(loss, weight, reduction, avg_factor)

    def extra_repr(self) -> str:
        return (f'loss_type={self.loss_type!r}, fun={self.fun!r}, tau={self.tau}, '
                f'loss_weight={self.loss_weight}, reduction={self.reduction!r}')


@MODELS.register_module()
class GDLoss(_GaussianLossBase):
    """Gaussian distance loss (mmrotate ``GDLoss`` formulas and defaults).

    Args:
        loss_type (str): ``'gwd'``, ``'kld'`` or ``'jd'``.
        fun (str): ``'log1p'`` (default), ``'sqrt'`` or ``'none'`` applied to the distance.
        tau (float): ``≥ 1``: ``1 − 1/(tau + f(d))``; below 1 the loss is ``f(d)``. Default 0.
        alpha (float): weight of the centre (``gwd``: of the shape) term. Default 1.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default ``'mean'``.
        loss_weight (float): multiplier. Default 1.
        normalize (bool): ``gwd`` only: divide by ``2·(det Σp det Σt)^(1/8)``. Default True.
        sqrt (bool): ``kld``/``jd`` only: square root of the divergence. Default True.

    Example:
        >>> b = torch.tensor([[10., 10., 8., 4., 0.3]])
        >>> float(GDLoss('gwd')(b, b))
        0.0
    """

    LOSS_TYPES = ('gwd', 'kld', 'jd')

    def __init__(self, loss_type: str = 'gwd', fun: str = 'log1p', tau: float = 0.0, alpha: float = 1.0,
                 reduction: str = 'mean', loss_weight: float = 1.0, normalize: bool = True,
                 sqrt: bool = True, representation: str = 'xy_wh_r') -> None:
        super().__init__(loss_type, fun, tau, reduction, loss_weight)
        if representation != 'xy_wh_r':
            raise ValueError(f"representation={representation!r}; only 'xy_wh_r' is supported")
        self.alpha = float(alpha)
        self.normalize = normalize
        self.sqrt = sqrt

    def _per_box(self, pred: Tensor, target: Tensor) -> Tensor:
        if self.loss_type == 'gwd':
            d = gwd_distance(pred, target, self.alpha, self.normalize)
        elif self.loss_type == 'kld':
            d = kld_distance(pred, target, self.alpha, self.sqrt)
        else:
            d = jd_distance(pred, target, self.alpha, self.sqrt)
        return postprocess(d, self.fun, self.tau)


@MODELS.register_module('GDLoss_v1')
@MODELS.register_module()
class GDLossV1(_GaussianLossBase):
    """Gaussian distance loss, mmrotate ``GDLoss_v1`` formulas (Rotated-LD's KLD configs).

    Args:
        loss_type (str): ``'kld'`` or ``'gwd'``.
        fun (str): ``'sqrt'`` (default, as mmrotate) or ``'log1p'``.
        tau (float): loss ``1 − 1/(tau + f(D))``. Default 1.
        reduction, loss_weight: as :class:`GDLoss`.

    Example:
        >>> b = torch.tensor([[10., 10., 8., 4., 0.3]])
        >>> float(GDLossV1('kld', fun='log1p', tau=1.0)(b, b)) < 1e-5  # D is clamped at 1e-6
        True
    """

    LOSS_TYPES = ('kld', 'gwd')

    def __init__(self, loss_type: str = 'kld', fun: str = 'sqrt', tau: float = 1.0,
                 reduction: str = 'mean', loss_weight: float = 1.0) -> None:
        super().__init__(loss_type, fun, tau, reduction, loss_weight)
        if fun == 'none':
            raise ValueError("GDLoss_v1 takes fun='sqrt' or 'log1p'")

    def _per_box(self, pred: Tensor, target: Tensor) -> Tensor:
        d = kld_v1_distance(pred, target) if self.loss_type == 'kld' else gwd_v1_distance(pred, target)
        f = torch.sqrt(d) if self.fun == 'sqrt' else torch.log1p(d)
        return 1 - 1 / (self.tau + f)
