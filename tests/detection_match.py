"""Compare two detection lists as *sets*, the way two implementations of one model must agree.

Two correct implementations (onnxruntime vs PyTorch, batch 1 vs batch 2, converted vs original
weights, CPU kernels of two vendors) compute the same maths with different float rounding. Their
detections are then the same boxes with slightly different coordinates and scores, but a sorted
list can put near-equal scores in another order. So detections are matched one-to-one by label,
score (within ``score_tol``) and box corners (within ``box_atol + box_rtol · box size``) — never
by position — and every detection of either side must be matched.

Corners are computed here in float64 from the box parameters (independently of
``rotated_ld.structures``), so ``(w, h, θ)`` and ``(h, w, θ + π/2)`` or ``θ + π`` — the same
rectangle in another angle convention — compare equal.
"""
from __future__ import annotations

import numpy as np


def corners(bboxes, rotated: bool) -> np.ndarray:
    """``(N, 4, 2)`` float64 corners, counter-clockwise order up to a cyclic shift.

    ``bboxes``: ``(N, 5)`` ``(cx, cy, w, h, θ)`` radians if ``rotated`` else ``(N, 4)`` xyxy.
    """
    b = np.asarray(bboxes, dtype=np.float64).reshape(-1, 5 if rotated else 4)
    if not rotated:
        x1, y1, x2, y2 = b.T
        return np.stack([np.stack(p, -1) for p in ((x1, y1), (x2, y1), (x2, y2), (x1, y2))], 1)
    cx, cy, w, h, t = b.T
    c, s = np.cos(t), np.sin(t)
    out = []
    for u, v in ((-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)):
        out.append(np.stack([cx + c * u * w - s * v * h, cy + s * u * w + c * v * h], -1))
    return np.stack(out, 1)


def corner_distance(pa: np.ndarray, pb: np.ndarray) -> np.ndarray:
    """``(Na, Nb)`` smallest over cyclic corner shifts of the largest corner distance."""
    best = np.full((pa.shape[0], pb.shape[0]), np.inf)
    for k in range(4):
        d = np.linalg.norm(pa[:, None] - np.roll(pb, k, axis=1)[None], axis=-1).max(-1)
        best = np.minimum(best, d)
    return best


def _max_matching(ok: np.ndarray) -> list[int]:
    """Maximum bipartite matching (Kuhn's augmenting paths) on the boolean ``(Na, Nb)`` graph:
    ``match[j]`` = row matched to column ``j`` or -1. Near-duplicate boxes with near-equal scores
    can be compatible with several partners; any one-to-one assignment proves the sets equal."""
    match = [-1] * ok.shape[1]

    def augment(i: int, seen: list[bool]) -> bool:
        for j in np.flatnonzero(ok[i]):
            if not seen[j]:
                seen[j] = True
                if match[j] < 0 or augment(match[j], seen):
                    match[j] = i
                    return True
        return False

    for i in range(ok.shape[0]):
        augment(i, [False] * ok.shape[1])
    return match


def _get(d, key):
    v = d[key] if isinstance(d, dict) else getattr(d, key)
    return v.detach().cpu().numpy() if hasattr(v, 'detach') else np.asarray(v)


def assert_same_detections(a, b, *, rotated: bool, score_tol: float, box_atol: float,
                           box_rtol: float = 0.0) -> None:
    """Assert that detections ``a`` and ``b`` (``dict`` or ``InstanceData`` with ``bboxes``,
    ``scores``, ``labels``) are the same set.

    A pair is compatible when the labels are equal, ``|Δscore| <= score_tol`` and every corner
    is within ``box_atol + box_rtol · max(w, h)`` (of the larger box). Fails unless a one-to-one
    matching covers both sides, naming the unmatched detections.
    """
    ba, bb = _get(a, 'bboxes'), _get(b, 'bboxes')
    sa, sb = _get(a, 'scores').astype(np.float64), _get(b, 'scores').astype(np.float64)
    la, lb = _get(a, 'labels'), _get(b, 'labels')
    assert len(ba) == len(bb), f'{len(ba)} vs {len(bb)} detections'
    if len(ba) == 0:
        return
    pa, pb = corners(ba, rotated), corners(bb, rotated)
    size_a = np.ptp(pa, axis=1).max(-1)
    size_b = np.ptp(pb, axis=1).max(-1)
    tol = box_atol + box_rtol * np.maximum(size_a[:, None], size_b[None])
    ok = ((la[:, None] == lb[None]) & (np.abs(sa[:, None] - sb[None]) <= score_tol)
          & (corner_distance(pa, pb) <= tol))
    match = _max_matching(ok)
    unmatched_b = [j for j, i in enumerate(match) if i < 0]
    if unmatched_b:
        matched_a = set(match)
        unmatched_a = [i for i in range(len(ba)) if i not in matched_a]
        raise AssertionError(
            f'{len(unmatched_b)} of {len(bb)} detections unmatched; first in b: label {lb[unmatched_b[0]]} '
            f'score {sb[unmatched_b[0]]:.6f} box {bb[unmatched_b[0]].tolist()}; first in a: label '
            f'{la[unmatched_a[0]]} score {sa[unmatched_a[0]]:.6f} box {ba[unmatched_a[0]].tolist()}')
