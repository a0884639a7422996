"""ATSS assigner vs a brute-force loop; prior generator and distance coder closed forms (CPU, < 2 s)."""
import statistics

import pytest
import torch

from rotated_ld.models.task_modules import ATSSAssigner, DistancePointBBoxCoder, MlvlPointGenerator


def _iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _brute_force_atss(priors, nlp, gts, topk=9):
    priors, gts = priors.tolist(), gts.tolist()
    ctr = [((p[0] + p[2]) / 2, (p[1] + p[3]) / 2) for p in priors]
    claims = {}
    for g, gt in enumerate(gts):
        gc = ((gt[0] + gt[2]) / 2, (gt[1] + gt[3]) / 2)
        cands, start = [], 0
        for n in nlp:
            idx = sorted(range(start, start + n),
                         key=lambda a: (ctr[a][0] - gc[0]) ** 2 + (ctr[a][1] - gc[1]) ** 2)[:topk]
            cands += idx
            start += n
        ious = [_iou(priors[a], gt) for a in cands]
        thr = statistics.mean(ious) + statistics.stdev(ious)
        for a, iou in zip(cands, ious):
            x, y = ctr[a]
            inside = min(x - gt[0], y - gt[1], gt[2] - x, gt[3] - y) > 0.01
            if iou >= thr and inside:
                claims.setdefault(a, []).append((iou, -g))
    out = [-1] * len(priors)
    for a, c in claims.items():
        out[a] = -max(c)[1]
    return out


def _random_priors(sizes=((12, 12), (6, 6), (3, 3)), strides=(8, 16, 32)):
    boxes, nlp = [], []
    for (h, w), s in zip(sizes, strides):
        ys, xs = torch.meshgrid(torch.arange(h) * s, torch.arange(w) * s, indexing='ij')
        c = torch.stack([xs.reshape(-1), ys.reshape(-1)], 1).double() + torch.rand(h * w, 2, dtype=torch.float64)
        half = 4.0 * s
        boxes.append(torch.cat([c - half, c + half], 1))
        nlp.append(h * w)
    return torch.cat(boxes), nlp


@pytest.mark.parametrize('num_gts', [1, 3, 7])
def test_atss_matches_brute_force(seed, num_gts):
    for trial in range(3):
        priors, nlp = _random_priors()
        xy = torch.rand(num_gts, 2, dtype=torch.float64) * 70
        gts = torch.cat([xy, xy + torch.rand(num_gts, 2, dtype=torch.float64) * 40 + 8], 1)
        labels = torch.randint(0, 4, (num_gts,))
        res = ATSSAssigner(topk=9).assign(priors, nlp, gts, labels)
        ref = _brute_force_atss(priors, nlp, gts)
        assert res.gt_inds.tolist() == ref, f'trial {trial}'
        pos = res.gt_inds >= 0
        assert pos.any()
        assert torch.equal(res.labels[pos], labels[res.gt_inds[pos]])
        assert (res.labels[~pos] == -1).all()
        iou = torchvision_iou(priors, gts)
        torch.testing.assert_close(res.max_overlaps[pos], iou[pos, res.gt_inds[pos]])


def torchvision_iou(a, b):
    import torchvision
    return torchvision.ops.box_iou(a, b)


def test_atss_no_gt_and_ignore(seed):
    priors, nlp = _random_priors()
    res = ATSSAssigner().assign(priors, nlp, priors.new_zeros((0, 4)), torch.zeros(0, dtype=torch.long))
    assert (res.gt_inds == -1).all() and res.thresholds.shape == (0,)
    gts = torch.tensor([[10.0, 10.0, 60.0, 60.0]], dtype=torch.float64)
    ign = torch.tensor([[0.0, 0.0, 100.0, 100.0]], dtype=torch.float64)
    res = ATSSAssigner(ignore_iof_thr=0.5).assign(priors, nlp, gts, torch.tensor([1]), ign)
    assert (res.gt_inds >= 0).sum() == 0 and (res.gt_inds == -2).any()


def test_point_generator_and_coder():
    gen = MlvlPointGenerator([8, 16], offset=0.0)
    p = gen.grid_priors([(2, 3), (1, 2)])
    assert p[0].tolist()[:4] == [[0, 0, 8, 8], [8, 0, 8, 8], [16, 0, 8, 8], [0, 8, 8, 8]]
    assert p[1].tolist() == [[0, 0, 16, 16], [16, 0, 16, 16]]
    assert MlvlPointGenerator([8], offset=0.5).grid_priors([(1, 1)])[0].tolist() == [[4, 4, 8, 8]]
    coder = DistancePointBBoxCoder()
    pts = torch.tensor([[10.0, 20.0]])
    box = torch.tensor([[4.0, 12.0, 13.0, 40.0]])
    d = coder.encode(pts, box)
    assert d.tolist() == [[6.0, 8.0, 3.0, 20.0]]
    assert coder.encode(pts, box, max_dis=16)[0].tolist() == pytest.approx([6.0, 8.0, 3.0, 15.9])
    torch.testing.assert_close(coder.decode(pts, d), box)
    assert coder.decode(pts, d, max_shape=(30, 12)).tolist() == [[4.0, 12.0, 12.0, 30.0]]
