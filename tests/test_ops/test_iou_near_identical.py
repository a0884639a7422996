"""Near-identical rotated boxes (prediction ≈ target, NMS duplicates) in float32 vs shapely.

Regression: with float32 arithmetic the tie rules of almost-coincident edges misfired
(IoU 0.6 instead of 0.99999 for boxes ~1e-3 px apart at coordinates ~1e3)."""
import pytest
import torch
from shapely.geometry import Polygon

from rotated_ld.ops import box_iou_rotated
from rotated_ld.structures.bbox import rbox2poly


@pytest.mark.parametrize('noise', [1e-6, 1e-5, 1e-4, 1e-3])
def test_near_identical_float32_matches_shapely(noise):
    g = torch.Generator().manual_seed(0)
    b = torch.rand(300, 5, generator=g) * torch.tensor([1000, 1000, 300, 300, 3.0]) + torch.tensor([0, 0, 2, 2, -1.5])
    c = b + torch.randn(300, 5, generator=g) * noise * torch.tensor([100, 100, 100, 100, 1.0])
    got = box_iou_rotated(b, c, aligned=True)
    assert got.dtype == torch.float32
    ref = []
    for p, q in zip(rbox2poly(b.double()), rbox2poly(c.double())):
        p1, p2 = Polygon(p.view(4, 2).tolist()), Polygon(q.view(4, 2).tolist())
        ref.append(p1.intersection(p2).area / p1.union(p2).area)
    assert (got.double() - torch.tensor(ref, dtype=torch.float64)).abs().max() <= 1e-5
    # the matrix form agrees with the aligned one
    full = box_iou_rotated(b[:50], c[:50])
    torch.testing.assert_close(full.diagonal(), got[:50], rtol=0, atol=1e-6)
