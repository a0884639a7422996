"""Score-voting Cluster-DIoU-NMS (HikariTJU/LD test-time NMS; docs/method.md §7).

Cluster-NMS (Zheng et al., "Enhancing Geometric Factors ... CIoU / Cluster-NMS") computes greedy
NMS with matrix operations: with the candidates sorted by score and ``U = triu(D, 1)`` (``D`` the
pairwise suppression score), iterate ``keep = (max_i (U ⊙ keep[:, None])[i, j] ≤ thr)`` until it
stops changing — the fixed point is exactly the greedy result. Here ``D`` is
``DIoU_β = IoU − (ρ²/c²)^β`` with ``β = 0.8``.

Score voting then refines each kept box with the boxes it would have suppressed (same class,
lower score, ``D > 0.7``): ``W_ij = exp(−(1 − V_ij·[V_ij > 0.7])² / σ) · s_j`` with
``V = triu(D)`` (diagonal included: a box votes for itself with weight ``s_i``), ``σ = 0.025``,
``box_i = Σ_j W_ij box_j / Σ_j W_ij``; scores are unchanged.

Differences from the reference, on purpose:

* classes are separated by masking the matrix, not by offsetting boxes by ``4000·label``
  (offsets fail on images larger than 4000 px); the reference's ``exp(−40)·s_j`` votes from other
  classes (~1e−18 relative) are therefore exactly 0;
* the number of candidates entering the O(K²) matrices is capped (``max_candidates``, default
  3000, highest scores first); the reference has no cap.

The matrix-level pieces (:func:`cluster_nms_keep`, :func:`voting_weights`) take any pairwise score
matrix, so the rotated head can pass rotated DIoU and average angles its own way.
"""
from __future__ import annotations

import torch
from torch import Tensor

from ..structures.bbox import convert_rbox_version, norm_angle, rbox2hbox
from .iou_rotated import box_iou_rotated


def diou_matrix(boxes: Tensor, beta: float = 0.8, eps: float = 1e-7) -> Tensor:
    """Pairwise ``IoU − (ρ²/c²)^β`` of horizontal boxes.

    Args:
        boxes (Tensor): (N, 4) xyxy.
        beta (float): exponent of the centre-distance penalty (0.8 in the reference; 1 = DIoU).
        eps (float): guard of ``c²``.

    Returns:
        Tensor: (N, N) fp32, symmetric, 1 on the diagonal for non-degenerate boxes.
    """
    b = boxes.float()
    area = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
    lt = torch.maximum(b[:, None, :2], b[None, :, :2])
    rb = torch.minimum(b[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    union = area[:, None] + area[None, :] - inter
    iou = inter / union.clamp(min=eps)
    ctr = (b[:, :2] + b[:, 2:]) / 2
    rho2 = (ctr[:, None] - ctr[None]).pow(2).sum(-1)
    enc = torch.maximum(b[:, None, 2:], b[None, :, 2:]) - torch.minimum(b[:, None, :2], b[None, :, :2])
    c2 = enc.pow(2).sum(-1) + eps
    return iou - (rho2 / c2).pow(beta)


def cluster_nms_keep(D: Tensor, iou_threshold: float, max_iter: int = 999) -> Tensor:
    """Cluster-NMS on a score-sorted pairwise matrix.

    Args:
        D (Tensor): (N, N) suppression scores of candidates sorted by score descending; entries
            that must never suppress (other classes) set to a value ≤ ``iou_threshold``.
        iou_threshold (float): a box is suppressed by a kept higher-scored box with D > thr.
        max_iter (int): iteration cap (converges in at most N iterations; usually a few).

    Returns:
        Tensor: (N,) bool keep mask (identical to greedy NMS with the same D).
    """
    N = D.shape[0]
    if N == 0:
        return D.new_zeros(0, dtype=torch.bool)
    U = D.triu(diagonal=1)
    keep = D.new_ones(N, dtype=torch.bool)
    for _ in range(max_iter):
        m = (U * keep[:, None].to(U.dtype)).max(0).values
        new_keep = m <= iou_threshold
        if torch.equal(new_keep, keep):
            break
        keep = new_keep
    return keep


def voting_weights(D: Tensor, scores: Tensor, keep: Tensor, vote_threshold: float = 0.7,
                   sigma: float = 0.025, same_group: Tensor | None = None) -> Tensor:
    """Score-voting weights ``W`` (K, N) of the kept rows over all candidates.

    Args:
        D (Tensor): (N, N) pairwise DIoU_β, candidates sorted by score descending.
        scores (Tensor): (N,) sorted scores.
        keep (Tensor): (N,) bool Cluster-NMS result.
        vote_threshold (float): only ``D > vote_threshold`` counts as overlap (0.7).
        sigma (float): ``σ`` of the Gaussian on ``1 − D`` (0.025).
        same_group (Tensor, optional): (N, N) bool, pairs that may vote (same class).

    Returns:
        Tensor: (K, N) fp32 weights, K = keep.sum().
    """
    V = D.triu(diagonal=0)
    V = V * (V > vote_threshold).to(V.dtype)
    W = torch.exp(-(1 - V[keep]).pow(2) / sigma) * scores.float()[None, :]
    if same_group is not None:
        W = W * same_group[keep].to(W.dtype)
    return W


def voting_cluster_diou_nms(boxes: Tensor, scores: Tensor, idxs: Tensor,
                            iou_threshold: float = 0.6, beta: float = 0.8,
                            vote_threshold: float = 0.7, sigma: float = 0.025,
                            voting: bool = True, max_candidates: int = 3000,
                            max_num: int = -1) -> tuple[Tensor, Tensor, Tensor]:
    """Class-aware Cluster-DIoU-NMS with optional score voting.

    Args:
        boxes (Tensor): (N, 4) xyxy candidate boxes.
        scores (Tensor): (N,) scores.
        idxs (Tensor): (N,) class labels (boxes of different classes never interact).
        iou_threshold (float): DIoU_β suppression threshold (0.6).
        beta (float): centre-penalty exponent (0.8).
        vote_threshold, sigma (float): voting parameters (0.7, 0.025).
        voting (bool): refine kept boxes by score voting.
        max_candidates (int): cap on candidates entering the O(N²) matrices (by score; ≤ 0: none).
        max_num (int): keep at most this many (≤ 0: all).

    Returns:
        tuple: boxes (K, 4) (voted if ``voting``), scores (K,), keep (K,) long indices into the
        input, sorted by score descending.
    """
    if boxes.numel() == 0:
        return boxes.new_zeros((0, 4)), scores.new_zeros(0), scores.new_zeros(0, dtype=torch.long)
    order = scores.argsort(descending=True, stable=True)
    if max_candidates > 0:
        order = order[:max_candidates]
    b, s, c = boxes[order], scores[order], idxs[order]
    same = c[:, None] == c[None, :]
    D = diou_matrix(b, beta)
    # other classes: never suppress (−1 ≤ thr) and never vote
    D = torch.where(same, D, D.new_full((), -1.0))
    keep = cluster_nms_keep(D, iou_threshold)
    if voting:
        W = voting_weights(D, s, keep, vote_threshold, sigma, same)
        out_boxes = (W @ b.float()) / W.sum(1, keepdim=True).clamp(min=1e-12)
        out_boxes = out_boxes.to(boxes.dtype)
    else:
        out_boxes = b[keep]
    out_scores, out_inds = s[keep], order[keep]
    if max_num > 0:
        out_boxes, out_scores, out_inds = out_boxes[:max_num], out_scores[:max_num], out_inds[:max_num]
    return out_boxes, out_scores, out_inds


def rbox_diou_matrix(rboxes: Tensor, beta: float = 0.8, eps: float = 1e-7) -> Tensor:
    """Pairwise rotated ``IoU − (ρ²/c²)^β`` (docs/method.md §7 rotated PROPOSAL).

    ``ρ`` = distance of the box centres, ``c`` = diagonal of the box enclosing the two boxes'
    horizontal hulls. At angle 0 this equals :func:`diou_matrix` of the same boxes.

    Args:
        rboxes (Tensor): (N, 5) ``(cx, cy, w, h, t)``, t in radians (any angle version).
    Returns:
        Tensor: (N, N) fp32.
    """
    b = rboxes.float()
    iou = box_iou_rotated(b, b)
    hull = rbox2hbox(b)
    rho2 = (b[:, None, :2] - b[None, :, :2]).pow(2).sum(-1)
    enc = (torch.maximum(hull[:, None, 2:], hull[None, :, 2:])
           - torch.minimum(hull[:, None, :2], hull[None, :, :2]))
    return iou - (rho2 / (enc.pow(2).sum(-1) + eps)).pow(beta)


def vote_rboxes(W: Tensor, rboxes: Tensor, angle_version: str = 'le90') -> Tensor:
    """Weighted average of rotated boxes: ``W`` (K, N) over ``rboxes`` (N, 5) → (K, 5).

    Boxes are averaged in the ``le90`` representation (w ≥ h, angle period π): centre and size
    linearly, the angle on the circle (mean of ``(cos 2t, sin 2t)``), so boxes at +89° and −89°
    average to ±90°, not 0°. The result is converted back to ``angle_version``.
    """
    b = convert_rbox_version(rboxes.float(), angle_version, 'le90') if angle_version != 'le90' \
        else rboxes.float()
    denom = W.sum(1, keepdim=True).clamp(min=1e-12)
    lin = (W @ b[:, :4]) / denom
    ang = 0.5 * torch.atan2(W @ torch.sin(2 * b[:, 4]), W @ torch.cos(2 * b[:, 4]))
    out = torch.cat([lin, norm_angle(ang, 'le90')[:, None]], 1)
    if angle_version != 'le90':
        out = convert_rbox_version(out, 'le90', angle_version)
    return out.to(rboxes.dtype)


def voting_cluster_diounms_rotated(boxes: Tensor, scores: Tensor, idxs: Tensor,
                                   iou_threshold: float = 0.1, angle_version: str = 'le90',
                                   beta: float = 0.8, vote_threshold: float = 0.7,
                                   sigma: float = 0.025, voting: bool = True,
                                   max_candidates: int = 1000,
                                   max_num: int = -1) -> tuple[Tensor, Tensor]:
    """Rotated score-voting Cluster-DIoU-NMS, in the heads' NMS contract.

    ``test_cfg.nms=dict(type='voting_cluster_diounms_rotated', iou_threshold=0.1,
    angle_version='le90')`` for the rotated heads. Suppression uses :func:`rbox_diou_matrix`;
    voting averages with :func:`vote_rboxes` (circular angle mean). The candidate cap defaults
    to 1000 (exact rotated IoU of all pairs is the costly part). ``voting=False`` gives plain
    Cluster-DIoU-NMS (identical to greedy NMS with the same score).

    Returns:
        tuple: ``dets`` (K, 6) = boxes (K, 5) + score, ``keep`` (K,) input rows, by score desc.
    """
    if boxes.numel() == 0:
        return boxes.new_zeros((0, 6)), scores.new_zeros(0, dtype=torch.long)
    order = scores.argsort(descending=True, stable=True)
    if max_candidates > 0:
        order = order[:max_candidates]
    b, s, c = boxes[order], scores[order], idxs[order]
    same = c[:, None] == c[None, :]
    D = torch.where(same, rbox_diou_matrix(b, beta), b.new_full((), -1.0, dtype=torch.float32))
    keep = cluster_nms_keep(D, iou_threshold)
    if voting:
        out_boxes = vote_rboxes(voting_weights(D, s, keep, vote_threshold, sigma, same), b,
                                angle_version)
    else:
        out_boxes = b[keep]
    out_scores, out_inds = s[keep], order[keep]
    if max_num > 0:
        out_boxes, out_scores, out_inds = out_boxes[:max_num], out_scores[:max_num], out_inds[:max_num]
    return torch.cat([out_boxes, out_scores[:, None].to(out_boxes.dtype)], 1), out_inds
