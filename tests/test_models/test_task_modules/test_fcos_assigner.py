"""FCOS centre-sampling assignment vs a brute-force per-point, per-GT Python loop (CPU, < 2 s)."""
import pytest
import torch

from rotated_ld.models.task_modules import FCOSAssigner, MlvlPointGenerator

STRIDES = (8, 16, 32)
RANGES = ((-1, 24), (24, 48), (48, 1e8))


def _brute_force(points, strides, gts, center_sampling, radius):
    out = []
    for (x, y), s, lvl in points:
        best, best_area = -1, None
        for g, (x1, y1, x2, y2) in enumerate(gts):
            if center_sampling:
                cx, cy, r = (x1 + x2) / 2, (y1 + y2) / 2, s * radius
                bx1, by1, bx2, by2 = max(cx - r, x1), max(cy - r, y1), min(cx + r, x2), min(cy + r, y2)
            else:
                bx1, by1, bx2, by2 = x1, y1, x2, y2
            if not (bx1 < x < bx2 and by1 < y < by2):
                continue
            far = max(x - x1, y - y1, x2 - x, y2 - y)
            lo, hi = RANGES[lvl]
            if not lo <= far <= hi:
                continue
            area = (x2 - x1) * (y2 - y1)
            if best_area is None or area < best_area:
                best, best_area = g, area
        out.append(best)
    return out


@pytest.mark.parametrize('seed', range(4))
@pytest.mark.parametrize('center_sampling', [True, False])
def test_fcos_assigner_matches_brute_force(seed, center_sampling):
    g = torch.Generator().manual_seed(seed)
    gen = MlvlPointGenerator(list(STRIDES), offset=0.5)
    sizes = [(12, 12), (6, 6), (3, 3)]
    mlvl = gen.grid_priors(sizes)
    priors = torch.cat(mlvl)
    nlp = [p.shape[0] for p in mlvl]
    half = priors[:, 2:] * 4  # any prior box: the assigner uses its centre
    boxes = torch.cat([priors[:, :2] - half, priors[:, :2] + half], 1)
    xy = torch.rand(7, 2, generator=g) * 80
    wh = torch.rand(7, 2, generator=g) * 60 + 4
    gts = torch.cat([xy, xy + wh], 1)
    labels = torch.arange(7)
    res = FCOSAssigner(STRIDES, RANGES, center_sampling, 1.5).assign(boxes, nlp, gts, labels)
    lvl = torch.repeat_interleave(torch.arange(3), torch.tensor(nlp))
    pts = [((float(p[0]), float(p[1])), STRIDES[int(lv)], int(lv)) for p, lv in zip(priors, lvl)]
    ref = _brute_force(pts, STRIDES, gts.tolist(), center_sampling, 1.5)
    assert res.gt_inds.tolist() == ref
    pos = res.gt_inds >= 0
    assert pos.any() and torch.equal(res.labels[pos], labels[res.gt_inds[pos]])
    assert (res.labels[~pos] == -1).all()


def test_fcos_assigner_equal_areas_take_the_lowest_gt_and_empty_cases():
    pts = torch.tensor([[20., 20., 20., 20.]])  # a degenerate box: its centre is the point
    gts = torch.tensor([[0., 0., 40., 40.], [0., 0., 40., 40.]])
    res = FCOSAssigner((8,), ((-1, 1e8),), center_sampling=False).assign(pts, [1], gts, torch.tensor([4, 5]))
    assert res.gt_inds.tolist() == [0] and res.labels.tolist() == [4]
    res = FCOSAssigner((8,), ((-1, 1e8),)).assign(pts, [1], torch.zeros(0, 4), torch.zeros(0).long())
    assert res.gt_inds.tolist() == [-1]
    with pytest.raises(ValueError, match='levels'):
        FCOSAssigner((8, 16), ((-1, 64), (64, 1e8))).assign(pts, [1], gts, torch.tensor([0, 1]))
