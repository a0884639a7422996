"""Angle coders for the rotated GFL head: the angle as a distribution over one period (a circle).

Design (docs/method.md §9.3, docs/rotated_ld.md):

* **One period.** With ``w ≥ h`` (``le90``/``le135``) a rotated box is the same box after a turn
  of ``π``, so the angle lives on a circle of period ``P = π``: ``le90`` covers
  ``[-π/2, π/2)``, ``le135`` covers ``[-π/4, 3π/4)``.
* **oc is handled at the boundary.** ``oc`` (OpenCV: ``t ∈ [-π/2, 0)``, w/h not ordered) has
  period ``π/2`` *with* a w/h relabelling, which is not a plain circle of bins. The coder (and
  the head) therefore work on an internal ``le90`` representation when ``angle_version='oc'``:
  ``internal_version`` says which version the angles given to :meth:`encode` / returned by
  :meth:`decode` are in; the head converts boxes with ``convert_rbox_version`` on the way in
  and out.
* **Bins.** ``K = angle_bins`` bins; bin ``k`` has centre ``θ_k = θ_min + (k + ½)·P/K``, so the
  period boundary ``θ_min`` (≡ ``θ_min + P``) lies exactly *between* the last and the first bin.
* **Circular DFL target.** A target angle ``θ`` has the continuous bin position
  ``u = ((θ − θ_min)/P·K − ½) mod K``; it is split between bins ``⌊u⌋`` and ``(⌊u⌋ + 1) mod K``
  with weights ``1 − frac(u)`` and ``frac(u)``: the last and first bins are neighbours. A target
  exactly at the boundary gets ½ on the last and ½ on the first bin.
* **Circular decoding.** ``φ_k = 2π(θ_k − θ_min)/P``;
  ``θ̂ = θ_min + (P/2π)·atan2(Σ p_k sin φ_k, Σ p_k cos φ_k)`` wrapped into ``[θ_min, θ_min + P)``.
  Mass on the first and last bins decodes at the boundary, not mid-range (what a plain
  expectation ``Σ p_k θ_k`` would give).

Two coders share one small interface (``encode_size``, ``is_distribution``, ``encode``,
``decode``), so the head picks the angle representation by config:
:class:`CircularAngleCoder` (default, the project's contribution) and :class:`PlainAngleCoder`
(baseline: one regressed scalar, trained through the rotated IoU loss).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from rotated_ld.registry import TASK_UTILS
from rotated_ld.structures.bbox import angle_period, angle_range, check_angle_version, norm_angle


def internal_angle_version(angle_version: str) -> str:
    """The version a head computes in: ``le90`` for ``oc``, the version itself otherwise."""
    return 'le90' if check_angle_version(angle_version) == 'oc' else angle_version


class _AngleCoderBase:
    """Common part: angle version, internal version, period and range."""

    is_distribution = False
    encode_size = 1

    def __init__(self, angle_version: str = 'le90') -> None:
        self.angle_version = angle_version
        self.internal_version = internal_angle_version(angle_version)
        self.period = angle_period(self.internal_version)  # π: internal versions are long-edge
        self.theta_min = angle_range(self.internal_version)[0]

    def wrap(self, angle: Tensor) -> Tensor:
        """Wrap angles (any shape, radians) into ``[θ_min, θ_min + P)`` of the internal version."""
        return norm_angle(angle, self.internal_version)


@TASK_UTILS.register_module()
class CircularAngleCoder(_AngleCoderBase):
    """Angle as a categorical distribution over ``angle_bins`` bins on a circle of one period.

    Args:
        angle_version (str): ``'oc'``, ``'le90'`` or ``'le135'``; angles given to / returned by
            this coder are in ``internal_version`` (``le90`` for ``oc``).
        angle_bins (int): number of bins ``K`` over the period ``π``. Default 36 (5° bins).

    Example:
        >>> coder = CircularAngleCoder('le90', angle_bins=36)
        >>> logits = torch.full((1, 36), -20.); logits[0, [0, 35]] = 0.
        >>> round(coder.decode(logits).item(), 4)  # boundary, not 0
        -1.5708
    """

    is_distribution = True

    def __init__(self, angle_version: str = 'le90', angle_bins: int = 36) -> None:
        super().__init__(angle_version)
        if angle_bins < 2:
            raise ValueError(f'angle_bins={angle_bins}; expected ≥ 2')
        self.angle_bins = angle_bins
        self.encode_size = angle_bins
        self.bin_width = self.period / angle_bins

    def bin_centers(self, device=None, dtype=torch.float32) -> Tensor:
        """Bin centres ``θ_k = θ_min + (k + ½)·P/K``, shape (K,), radians."""
        k = torch.arange(self.angle_bins, device=device, dtype=dtype)
        return self.theta_min + (k + 0.5) * self.bin_width

    def encode(self, angle: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Circular DFL target of angles.

        Args:
            angle (Tensor): (N,) angles in radians (any value; wrapped onto the circle).

        Returns:
            tuple: ``idx_lo`` (N,) long, ``idx_hi`` (N,) long ``= (idx_lo + 1) mod K``,
            ``w_lo`` (N,), ``w_hi`` (N,) float with ``w_lo + w_hi = 1``.
        """
        u = (angle.float() - self.theta_min) / self.bin_width - 0.5
        u = torch.remainder(u, self.angle_bins)
        fl = torch.floor(u)
        w_hi = (u - fl).clamp(0.0, 1.0)
        idx_lo = fl.long() % self.angle_bins  # fl may equal K after float rounding
        idx_hi = (idx_lo + 1) % self.angle_bins
        return idx_lo, idx_hi, 1.0 - w_hi, w_hi

    def encode_soft(self, angle: Tensor) -> Tensor:
        """Circular DFL target as a dense distribution (N, K) (two non-zero entries per row)."""
        idx_lo, idx_hi, w_lo, w_hi = self.encode(angle)
        target = angle.new_zeros((angle.shape[0], self.angle_bins), dtype=torch.float32)
        rows = torch.arange(angle.shape[0], device=angle.device)
        target.index_put_((rows, idx_lo), w_lo, accumulate=True)
        target.index_put_((rows, idx_hi), w_hi, accumulate=True)
        return target

    def decode(self, logits: Tensor) -> Tensor:
        """Circular mean of ``softmax(logits)``.

        Args:
            logits (Tensor): (..., K) angle logits.

        Returns:
            Tensor: (...) angles in ``[θ_min, θ_min + P)`` of ``internal_version``, radians.
        """
        prob = F.softmax(logits.float(), dim=-1)
        return self.decode_prob(prob)

    def decode_prob(self, prob: Tensor) -> Tensor:
        """Circular mean of a probability vector (..., K) (see :meth:`decode`)."""
        k = torch.arange(self.angle_bins, device=prob.device, dtype=prob.dtype)
        phi = (k + 0.5) * (2 * math.pi / self.angle_bins)
        s = (prob * phi.sin()).sum(-1)
        c = (prob * phi.cos()).sum(-1)
        a = torch.atan2(s, c)  # (-π, π]
        return self.wrap(self.theta_min + a * (self.period / (2 * math.pi)))


@TASK_UTILS.register_module()
class PlainAngleCoder(_AngleCoderBase):
    """Baseline: the angle is one regressed scalar (radians), wrapped into the internal range.

    The raw output is used as the angle (as mmrotate's pseudo angle coder); it is trained only
    through the rotated IoU loss on the decoded box, so no angle target exists (``encode`` is the
    identity, kept for a uniform interface).
    """

    is_distribution = False
    encode_size = 1

    def encode(self, angle: Tensor) -> Tensor:
        """Identity (wrapped): (N,) → (N, 1)."""
        return self.wrap(angle)[:, None]

    def decode(self, pred: Tensor, wrap: bool = False) -> Tensor:
        """(..., 1) raw output → (...) angle; ``wrap=True`` wraps into the internal range."""
        angle = pred[..., 0].float()
        return self.wrap(angle) if wrap else angle
