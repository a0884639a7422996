"""QFL / DFL / IoU-family / focal losses against hand-written formulas (CPU, < 1 s)."""
import math

import pytest
import torch
import torchvision

from rotated_ld.models.losses import (
    DistributionFocalLoss,
    FocalLoss,
    GIoULoss,
    IoULoss,
    QualityFocalLoss,
    aligned_box_overlaps,
    weight_reduce_loss,
)


def _qfl_reference(x, labels, scores, beta=2.0):
    out = []
    for i in range(x.shape[0]):
        tot = 0.0
        for c in range(x.shape[1]):
            q = float(scores[i]) if int(labels[i]) == c else 0.0
            s = 1 / (1 + math.exp(-float(x[i, c])))
            bce = -(q * math.log(s) + (1 - q) * math.log(1 - s))
            tot += bce * abs(q - s) ** beta
        out.append(tot)
    return torch.tensor(out, dtype=torch.float64)


def test_qfl_matches_formula(seed):
    x = torch.randn(12, 5, dtype=torch.float64)
    labels = torch.randint(0, 6, (12,))  # 5 = background
    scores = torch.rand(12, dtype=torch.float64)
    ref = _qfl_reference(x, labels, scores)
    loss = QualityFocalLoss(reduction='none')(x, (labels, scores))
    torch.testing.assert_close(loss.double(), ref, rtol=1e-5, atol=1e-6)
    w = torch.rand(12, dtype=torch.float64)
    mean = QualityFocalLoss(loss_weight=1.5)(x, (labels, scores), weight=w, avg_factor=3.0)
    torch.testing.assert_close(mean.double(), 1.5 * (ref * w).sum() / 3.0, rtol=1e-5, atol=1e-6)


def test_qfl_gradient_is_finite_and_pushes_towards_target(seed):
    x = torch.zeros(1, 2, requires_grad=True)
    QualityFocalLoss(reduction='sum')(x, (torch.tensor([0]), torch.tensor([0.9]))).backward()
    assert x.grad[0, 0] < 0 and x.grad[0, 1] > 0  # raise the positive class, lower the other


def test_dfl_matches_formula(seed):
    n = 16
    z = torch.randn(20, n + 1, dtype=torch.float64)
    y = torch.rand(20, dtype=torch.float64) * (n - 0.1)
    logp = torch.log_softmax(z, 1)
    y0 = y.floor().long()
    ref = -((y0 + 1 - y) * logp[torch.arange(20), y0] + (y - y0) * logp[torch.arange(20), y0 + 1])
    loss = DistributionFocalLoss(reduction='none')(z, y)
    torch.testing.assert_close(loss.double(), ref, rtol=1e-5, atol=1e-6)
    assert DistributionFocalLoss(loss_weight=0.25)(z, y).item() == pytest.approx(0.25 * ref.mean().item(), 1e-5)


def test_dfl_is_minimal_at_two_bin_target():
    y = torch.tensor([3.25])
    z = torch.full((1, 17), -30.0)
    z[0, 3], z[0, 4] = math.log(0.75), math.log(0.25)
    best = DistributionFocalLoss(reduction='none')(z, y)
    z2 = z.clone()
    z2[0, 3], z2[0, 4] = math.log(0.5), math.log(0.5)
    assert best < DistributionFocalLoss(reduction='none')(z2, y)


def _giou_reference(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    enc = (max(a[2], b[2]) - min(a[0], b[0])) * (max(a[3], b[3]) - min(a[1], b[1]))
    return inter / union - (enc - union) / enc


def _rand_boxes(n):
    xy = torch.rand(n, 2, dtype=torch.float64) * 50
    return torch.cat([xy, xy + torch.rand(n, 2, dtype=torch.float64) * 30 + 1], 1)


def test_giou_loss_matches_formula(seed):
    a, b = _rand_boxes(10), _rand_boxes(10)
    ref = torch.tensor([1 - _giou_reference(a[i].tolist(), b[i].tolist()) for i in range(10)],
                       dtype=torch.float64)
    torch.testing.assert_close(GIoULoss(reduction='none')(a, b).double(), ref, rtol=1e-5, atol=1e-6)
    tv = torchvision.ops.generalized_box_iou(a, b).diag()
    torch.testing.assert_close(aligned_box_overlaps(a, b, 'giou'), tv, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(aligned_box_overlaps(a, b, 'iou'), torchvision.ops.box_iou(a, b).diag(),
                               rtol=1e-5, atol=1e-6)
    w = torch.rand(10, dtype=torch.float64)
    assert GIoULoss(loss_weight=2.0)(a, b, weight=w, avg_factor=1.0).item() == pytest.approx(
        2.0 * (ref * w).sum().item(), 1e-5)


def test_iou_losses_closed_form():
    a = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    b = torch.tensor([[1.0, 0.0, 3.0, 2.0]])  # IoU = 2 / 6; enclosing 3x2 = 6 -> GIoU = 1/3
    assert IoULoss()(a, b).item() == pytest.approx(1 - 1 / 3, 1e-5)
    assert GIoULoss()(a, b).item() == pytest.approx(1 - 1 / 3, 1e-5)
    c = torch.tensor([[4.0, 0.0, 6.0, 2.0]])  # disjoint: IoU 0, enclosing 6x2=12, union 8 -> GIoU = -1/3
    assert GIoULoss()(a, c).item() == pytest.approx(1 + 1 / 3, 1e-5)
    assert aligned_box_overlaps(a, b, 'diou').item() == pytest.approx(1 / 3 - 1 / 13, 1e-5)  # rho²=1, c²=13


def test_focal_loss_matches_torchvision(seed):
    x = torch.randn(8, 3)
    labels = torch.tensor([0, 1, 2, 3, 3, 1, 0, 2])  # 3 = background
    target = torch.zeros(8, 3)
    target[torch.arange(8)[labels < 3], labels[labels < 3]] = 1
    ref = torchvision.ops.sigmoid_focal_loss(x, target, alpha=0.25, gamma=2.0, reduction='sum')
    assert FocalLoss(reduction='sum')(x, labels).item() == pytest.approx(ref.item(), 1e-5)


def test_weight_reduce_loss_rules():
    loss = torch.tensor([1.0, 2.0, 3.0])
    assert weight_reduce_loss(loss, torch.tensor([1.0, 0.0, 1.0]), 'mean', avg_factor=2.0).item() == 2.0
    assert weight_reduce_loss(loss, None, 'sum').item() == 6.0
    with pytest.raises(ValueError, match='reduction'):
        weight_reduce_loss(loss, None, 'max')
    with pytest.raises(ValueError, match='avg_factor'):
        weight_reduce_loss(loss, None, 'sum', avg_factor=2.0)
