"""Rotated score voting after greedy rotated NMS (``test_cfg.nms.type='rotated_voting_nms'``).

Greedy class-wise rotated NMS (:func:`.nms_rotated.batched_nms_rotated`, the kept set is exactly
``nms_rotated``'s) followed by **score voting** on each kept box ``i``: every candidate ``j`` of the
same class (all candidates that entered NMS, the kept box itself included) with rotated
``IoU(i, j) > voting_thr`` votes with weight

    ``w_ij = s_j · exp(−(1 − IoU_ij)² / σ)``          (``σ = 0.025``; ``sigma=None``: ``w_ij = s_j``)

and the kept box becomes the ``w``-weighted mean of the voters; scores, labels and order are
unchanged. This is the score voting of PAA / GFLv2 in mmdetection (``PAAHead.score_voting``: all
same-class candidates above the score threshold with IoU > 0.01, the same Gaussian with
``σ = 0.025``) with rotated IoU. mmrotate has no score voting; HikariTJU/LD's voting
(``voting_cluster_diounms``, :mod:`.voting_nms`) lets only lower-scored boxes with DIoU > 0.7 vote
after Cluster-DIoU-NMS — with the Gaussian the two differ only by weights below ``e^{-3.6}``.

**Averaging rotated boxes.** ``(cx, cy, w, h, t)`` is not a vector space: the same rectangle is
``(w, h, t + kπ)`` and ``(h, w, t + π/2 + kπ)``, so a plain mean of ``t`` breaks at the period
boundary (+89° and −89° in ``le90`` would average to 0° instead of ±90°) and, for near-square boxes,
between the ``w/h``-swapped representations (period π/2). We therefore **align every voter to the
kept box** before averaging: among the voter's representations we take the one whose ordered
corners best match the kept box's corners, i.e. the one that maximises
``(w_i·w'_j + h_i·h'_j)·cos(t'_j − t_i)`` (for two boxes with a common centre the sum of squared
distances between corresponding corners is ``Σ|u|² + Σ|u'|² − 2(w w' + h h')·cos Δt``). This picks
``t'_j = t_j + kπ`` nearest ``t_i`` for elongated boxes and also allows the ``w/h`` swap when it
fits better (squares: period π/2). The aligned voters' angles then lie within ±π/2 of ``t_i`` and
are averaged linearly as offsets ``t'_j − t_i``; centres, ``w'`` and ``h'`` linearly. The result is
in the kept box's representation (a box voting only for itself is returned unchanged), and is
regularised into ``angle_version`` when one is given. Unlike a doubled-angle circular mean in
``le90`` this needs no angle-version conversion and handles the ``w ≈ h`` case.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from ..structures.bbox import norm_angle, regularize_rboxes
from .iou_rotated import box_iou_rotated
from .nms_rotated import batched_nms_rotated

__all__ = ['align_rboxes_to', 'rotated_score_voting', 'rotated_voting_nms']


def align_rboxes_to(rboxes: Tensor, ref: Tensor) -> Tensor:
    """Re-express ``rboxes`` in the representation closest to ``ref`` (same rectangles).

    Args:
        rboxes (Tensor): (..., 5) ``(cx, cy, w, h, t)``, radians, any angle version.
        ref (Tensor): (..., 5) reference boxes, broadcastable to ``rboxes``.

    Returns:
        Tensor: (..., 5) the same rectangles as ``(w, h, t + kπ)`` or ``(h, w, t + π/2 + kπ)``,
        whichever maximises ``(w_ref·w' + h_ref·h')·cos(t' − t_ref)``; ``t' − t_ref ∈ [−π/2, π/2)``.
    """
    w, h, t = rboxes[..., 2], rboxes[..., 3], rboxes[..., 4]
    rw, rh, rt = ref[..., 2], ref[..., 3], ref[..., 4]
    d0 = norm_angle(t - rt, 'le90')  # differences modulo π, in [−π/2, π/2)
    d1 = norm_angle(t + math.pi / 2 - rt, 'le90')
    score0 = (rw * w + rh * h) * torch.cos(d0)
    score1 = (rw * h + rh * w) * torch.cos(d1)
    swap = score1 > score0
    out = torch.stack([rboxes[..., 0], rboxes[..., 1],
                       torch.where(swap, h, w), torch.where(swap, w, h),
                       rt + torch.where(swap, d1, d0)], dim=-1)
    return out


def rotated_score_voting(kept: Tensor, cand_boxes: Tensor, cand_scores: Tensor,
                         kept_labels: Tensor | None = None, cand_labels: Tensor | None = None,
                         voting_thr: float = 0.01, sigma: float | None = 0.025,
                         chunk: int = 256) -> Tensor:
    """Replace each kept box by the weighted mean of the same-class candidates overlapping it.

    Args:
        kept (Tensor): (K, 5) boxes after NMS.
        cand_boxes (Tensor): (N, 5) all candidates (the kept ones included).
        cand_scores (Tensor): (N,) candidate scores.
        kept_labels, cand_labels (Tensor, optional): (K,), (N,) class ids; ``None``: one class.
        voting_thr (float): a candidate votes iff rotated ``IoU > voting_thr``.
        sigma (float | None): Gaussian ``σ`` of ``exp(−(1 − IoU)²/σ)``; ``None``: weight = score.
        chunk (int): kept rows per IoU block (memory bound only).

    Returns:
        Tensor: (K, 5) voted boxes in the kept boxes' representation (module docstring), fp32
        (fp64 for fp64 inputs) maths, dtype of ``kept``. A kept box with no voter (degenerate) is returned unchanged.
    """
    if kept.numel() == 0 or cand_boxes.numel() == 0:
        return kept.clone()
    dt = torch.promote_types(kept.dtype, torch.float32)  # fp16 → fp32, fp64 stays fp64
    kf, cf, sf = kept.to(dt), cand_boxes.to(dt), cand_scores.to(dt)
    out = kf.clone()
    for s in range(0, kf.shape[0], chunk):
        k = kf[s:s + chunk]
        iou = box_iou_rotated(k, cf)  # (k, N); only overlapping pairs are computed exactly
        vote = iou > voting_thr
        if kept_labels is not None and cand_labels is not None:
            vote &= kept_labels[s:s + chunk, None] == cand_labels[None, :]
        w = sf[None, :].expand_as(iou)
        if sigma is not None:
            w = w * torch.exp(-(1 - iou).pow(2) / sigma)
        w = torch.where(vote, w, torch.zeros_like(w))
        rows, cols = vote.nonzero(as_tuple=True)
        if rows.numel() == 0:
            continue
        aligned = align_rboxes_to(cf[cols], k[rows])  # (P, 5)
        delta = aligned.clone()
        delta[:, 4] = aligned[:, 4] - k[rows, 4]  # angle offsets in [−π/2, π/2)
        wp = w[rows, cols]
        num = torch.zeros_like(k).index_add_(0, rows, delta * wp[:, None])
        den = torch.zeros(k.shape[0], dtype=k.dtype, device=k.device).index_add_(0, rows, wp)
        ok = den > 0
        mean = num[ok] / den[ok, None]
        mean[:, 4] = mean[:, 4] + k[ok, 4]
        out[s:s + chunk][ok] = mean
    return out.to(kept.dtype)


def rotated_voting_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float = 0.1,
                       voting_thr: float = 0.01, sigma: float | None = 0.025, voting: bool = True,
                       angle_version: str | None = None,
                       class_agnostic: bool = False) -> tuple[Tensor, Tensor, Tensor]:
    """Class-wise greedy rotated NMS, then rotated score voting of the kept boxes.

    Args:
        boxes (Tensor): (N, 5) rboxes ``(cx, cy, w, h, t)``, radians.
        scores (Tensor): (N,).
        idxs (Tensor): (N,) class ids; boxes of different classes never suppress nor vote.
        iou_threshold (float): NMS IoU (0.1 as the DOTA references).
        voting_thr (float): voters need rotated IoU > this with the kept box (0.01, PAA).
        sigma (float | None): ``σ`` of the IoU Gaussian (0.025); ``None`` = plain score weights.
        voting (bool): ``False`` = plain ``batched_nms_rotated`` (boxes returned untouched).
        angle_version (str, optional): regularise the voted boxes into this version.
        class_agnostic (bool): one class for all boxes.

    Returns:
        tuple: boxes (K, 5), scores (K,), keep (K,) long input rows; sorted by score descending
        (the heads' NMS contract, ``rotated_ld.models.utils.nms``).
    """
    if class_agnostic:
        idxs = torch.zeros_like(idxs)
    if boxes.numel() == 0:
        return boxes.reshape(0, 5), scores.reshape(0), scores.new_zeros((0,), dtype=torch.long)
    keep = batched_nms_rotated(boxes, scores, idxs, iou_threshold)
    if not voting:
        return boxes[keep], scores[keep], keep
    voted = rotated_score_voting(boxes[keep], boxes, scores, idxs[keep], idxs, voting_thr, sigma)
    if angle_version is not None:
        voted = regularize_rboxes(voted, angle_version)
    return voted, scores[keep], keep
