"""IoU of general quadrilaterals ``(N, 8)`` (DOTA ground truth is 4 arbitrary points).

Convex quads (the vast majority, including every rectangle) use the same sort-free Green's
theorem clipping as :mod:`.iou_rotated`, generalised from slabs to the 4 half-planes of a convex
quad: each edge of one quad is clipped to the other (Liang-Barsky), and
``area = 1/2 * sum (a_k x d_k) * f_k`` over the inside fractions ``f_k`` of all 8 edges.
Vertices may come clockwise or counter-clockwise (each quad is reoriented first).

A non-convex or self-intersecting quad cannot be clipped this way; pairs that involve one are
computed with shapely (``make_valid`` first, so a bow-tie counts as its two triangles), without
gradient. Every such call is counted in :data:`POLY_IOU_STATS` and logged once per call.
"""
import logging
from typing import Tuple

import numpy as np
import shapely
import torch
from mmengine.logging import print_log
from torch import Tensor

from ..structures.bbox import poly2hbox, poly_signed_area
from .iou_rotated import EXACT_CHUNK, _overlap_ratio, candidate_pairs

__all__ = ['poly_iou', 'POLY_IOU_STATS']

#: running counts: quads found non-convex, pairs computed by the shapely fallback
POLY_IOU_STATS = {'nonconvex_polys': 0, 'fallback_pairs': 0}
_MODES = ('iou', 'iof')


def _cross(a: Tensor, b: Tensor) -> Tensor:
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def _orient(polys: Tensor) -> Tuple[Tensor, Tensor]:
    """Points ``(N, 4, 2)`` reordered counter-clockwise (positive shoelace) and a convex mask."""
    pts = polys.unflatten(-1, (4, 2))
    signed = poly_signed_area(polys)
    pts = torch.where((signed < 0)[:, None, None], pts[:, [0, 3, 2, 1]], pts)
    e = torch.roll(pts, -1, dims=-2) - pts
    turn = _cross(e, torch.roll(e, -1, dims=-2))  # >= 0 at every vertex for a convex CCW quad
    scale = e.abs().sum(-1).amax(-1) ** 2
    convex = (turn >= -16 * torch.finfo(polys.dtype).eps * scale[:, None]).all(-1)
    return pts, convex


def _convex_inter_aligned(pa: Tensor, pb: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    """Intersection area and the two areas ``(K,)`` of convex CCW quads ``pa[k]``, ``pb[k]``
    (``(K, 4, 2)`` each)."""
    origin = pb.mean(dim=1, keepdim=True)  # local origin: no float32 cancellation
    pa, pb = pa - origin, pb - origin
    da = torch.roll(pa, -1, dims=1) - pa
    db = torch.roll(pb, -1, dims=1) - pb
    eps_rel = torch.finfo(pa.dtype).eps
    rel, tau = 16 * eps_rel, (1e-10 if pa.dtype == torch.float64 else 1e-5)
    scale = (pa.abs().amax((1, 2)) + pb.abs().amax((1, 2)))[:, None, None]
    eps = (rel * scale).detach()

    def clip(p: Tensor, d: Tensor, q: Tensor, e: Tensor, counts_on_boundary: bool) -> Tensor:
        # edges p + s d (K, 4, 2) against the half-planes n_j . (x - q_j) >= 0, n_j = left normal
        # of e_j; returns the inside fraction (K, 4) of each edge
        n = torch.stack([-e[..., 1], e[..., 0]], dim=-1)  # (K, 4, 2)
        nlen = n.abs().sum(-1)[:, None, :]  # (K, 1, 4)
        num = (p[:, :, None, :] * n[:, None]).sum(-1) - (q * n).sum(-1)[:, None, :]  # (K, 4e, 4h)
        den = (d[:, :, None, :] * n[:, None]).sum(-1)
        par = den.abs() <= tau * nlen * d.abs().sum(-1)[:, :, None]
        bound = -num / torch.where(par, torch.ones_like(den), den)
        inside = num > eps * nlen
        if counts_on_boundary:  # same-direction collinear edge: A's copy counts
            left = torch.stack([-d[..., 1], d[..., 0]], dim=-1)
            same = (left[:, :, None, :] * n[:, None]).sum(-1) > 0
            inside = inside | ((num.abs() <= eps * nlen) & same)
        lo = torch.where(par, (~inside).to(num.dtype), torch.where(den > 0, bound, torch.zeros_like(den)))
        hi = torch.where(par, inside.to(num.dtype), torch.where(den < 0, bound, torch.ones_like(den)))
        return (hi.amin(-1).clamp(max=1) - lo.amax(-1).clamp(min=0)).clamp(min=0)

    fa = clip(pa, da, pb, db, True)
    fb = clip(pb, db, pa, da, False)
    inter = 0.5 * ((_cross(pa, da) * fa).sum(-1) + (_cross(pb, db) * fb).sum(-1))
    area_a = (_cross(pa, da).sum(-1) / 2).clamp(min=0)  # local coordinates: accurate in float32
    area_b = (_cross(pb, db).sum(-1) / 2).clamp(min=0)
    return torch.minimum(torch.minimum(inter, area_a), area_b).clamp(min=0), area_a, area_b


def _shapely_inter(pa: Tensor, pb: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    """Intersection and areas ``(K,)`` by shapely (fallback for non-convex quads; no gradient)."""
    def to_geom(p: Tensor):
        g = shapely.polygons(p.detach().reshape(-1, 4, 2).double().cpu().numpy())
        return shapely.make_valid(g)

    ga, gb = to_geom(pa), to_geom(pb)
    inter = shapely.area(shapely.intersection(ga, gb, grid_size=None))
    to_t = lambda x: torch.as_tensor(np.asarray(x), dtype=pa.dtype, device=pa.device)  # noqa: E731
    return to_t(inter), to_t(shapely.area(ga)), to_t(shapely.area(gb))


def _aligned_poly_iou(p1: Tensor, convex1: Tensor, p2: Tensor, convex2: Tensor, mode: str) -> Tensor:
    inter, area1, area2 = _convex_inter_aligned(p1, p2)
    bad = ~(convex1 & convex2)
    if bad.any():
        idx = bad.nonzero(as_tuple=True)[0]
        i_s, a1_s, a2_s = _shapely_inter(p1[idx], p2[idx])
        inter, area1, area2 = (x.index_put((idx,), v) for x, v in ((inter, i_s), (area1, a1_s), (area2, a2_s)))
        POLY_IOU_STATS['fallback_pairs'] += int(idx.numel())
    return _overlap_ratio(inter, area1, area2, mode)


def poly_iou(polys1: Tensor, polys2: Tensor, mode: str = 'iou', aligned: bool = False) -> Tensor:
    """Exact IoU / IoF of quadrilaterals.

    Args:
        polys1: ``(N, 8)`` quads ``(x1, y1, ..., x4, y4)``, either orientation.
        polys2: ``(M, 8)`` quads.
        mode: ``'iou'`` or ``'iof'`` (intersection over the area of ``polys1``).
        aligned: if True, ``N == M`` and the result is ``(N,)``.

    Returns:
        ``(N, M)`` (or ``(N,)``) in ``[0, 1]``; differentiable for convex quads. Pairs involving a
        non-convex quad go through shapely (counted in :data:`POLY_IOU_STATS`, logged).
    """
    if mode not in _MODES:
        raise ValueError(f'mode={mode!r}; expected one of {_MODES}')
    for p, name in ((polys1, 'polys1'), (polys2, 'polys2')):
        if p.dim() != 2 or p.shape[-1] != 8:
            raise ValueError(f'{name} must be (N, 8) quads; got {tuple(p.shape)}')
    n, m = polys1.shape[0], polys2.shape[0]
    if aligned and n != m:
        raise ValueError(f'aligned=True needs N == M; got {n} and {m}')
    if n == 0 or m == 0:
        return polys1.new_zeros((n,) if aligned else (n, m))
    p1, c1 = _orient(polys1)
    p2, c2 = _orient(polys2)
    n_bad = int((~c1).sum()) + int((~c2).sum())
    if n_bad:
        POLY_IOU_STATS['nonconvex_polys'] += n_bad
        print_log(f'poly_iou: {n_bad} non-convex/self-intersecting quads; their pairs use shapely '
                  f'(no gradient)', logger='current', level=logging.WARNING)
    if aligned:
        return torch.cat([_aligned_poly_iou(p1[i:i + EXACT_CHUNK], c1[i:i + EXACT_CHUNK],
                                            p2[i:i + EXACT_CHUNK], c2[i:i + EXACT_CHUNK], mode)
                          for i in range(0, n, EXACT_CHUNK)])
    out = polys1.new_zeros((n, m))
    with torch.no_grad():
        hb1, hb2 = poly2hbox(polys1.detach()), poly2hbox(polys2.detach())
    for ii, jj in candidate_pairs(hb1, hb2):
        for k in range(0, ii.numel(), EXACT_CHUNK):
            i, j = ii[k:k + EXACT_CHUNK], jj[k:k + EXACT_CHUNK]
            out[i, j] = _aligned_poly_iou(p1[i], c1[i], p2[j], c2[j], mode)
    return out
