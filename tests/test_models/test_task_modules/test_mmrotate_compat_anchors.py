"""mmrotate-compatible anchors (``RotatedAnchorGenerator(compat=...)``) vs independent references.

The reference anchors (tests/mmrotate_np_reference.py) follow the mmdet 3.x ``AnchorGenerator`` and mmrotate 1.x
``FakeRotatedAnchorGenerator`` / ``RotatedBoxes.regularize_boxes`` sources, with **numpy float32**
arithmetic (not torch, not the package's helpers). The count of square anchors that mmrotate 1.x
leaves at angle 0 is derived twice more: by exact rational arithmetic with a hand-written
float32 round-to-nearest-even for the 5×5 P7 level, and the 640² total equals the 5,194 measured
with mmrotate 1.0.0rc1 itself (5,194 of 25,575 square anchors).
"""
from fractions import Fraction

import numpy as np
import pytest
import torch

from rotated_ld.models.task_modules.prior_generators import FakeRotatedAnchorGenerator, RotatedAnchorGenerator
from tests.mmrotate_np_reference import np_mmdet_anchors as _np_mmdet_anchors
from tests.mmrotate_np_reference import np_rbox as _np_rbox

STRIDES = [8, 16, 32, 64, 128]
SIZES_640 = [(640 // s, 640 // s) for s in STRIDES]  # 80, 40, 20, 10, 5


def _square_angle0(rboxes):
    """Number of ratio-1 anchors (the first 3 of the 9 per location) left at angle 0."""
    return int((rboxes.reshape(-1, 9, 5)[:, :3, 4] == 0).sum())


# ------------------------------------------------------------------ hand derivation (exact rationals)
def _rne_f32(x: Fraction) -> Fraction:
    """Round a rational to the nearest float32 (ties to even), by hand."""
    if x == 0:
        return x
    a, e = abs(x), 0
    while a >= 2:
        a, e = a / 2, e + 1
    while a < 1:
        a, e = a * 2, e - 1
    ulp = Fraction(2) ** (e - 23)
    q = abs(x) / ulp
    n, rest = q.numerator // q.denominator, q - q.numerator // q.denominator
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and n % 2):
        n += 1
    return (n * ulp) * (1 if x > 0 else -1)


def _hand_count_level(stride, n):
    """Square anchors left at angle 0 by 1.x le90 on an n×n level: x1 = fl(s − a), x2 = fl(s + a)
    with a = stride·scale/2 (scale rounded to float32; stride·scale and /2 are exact), side =
    fl(x2 − x1); a location (row i, column j) keeps angle 0 iff side(j·stride) > side(i·stride)."""
    count = 0
    for k in range(3):
        a = stride * _rne_f32(Fraction(4 * 2 ** (k / 3))) / 2
        side = [_rne_f32(_rne_f32(s + a) - _rne_f32(s - a)) for s in range(0, n * stride, stride)]
        count += sum(side[j] > side[i] for i in range(n) for j in range(n))
    return count


def test_hand_count_p7_level():
    # stride 128, 5×5: scales 4 and 4·2^(1/3) give x2 − x1 = 2a exactly at every shift; for
    # 4·2^(2/3), 2a = 812.7... and x2 − x1 = 2a at shift 0 but 2a − 2^-14 at shifts 128..512 (s ± a
    # round to the 2^-14 / 2^-15 grid of their binades) → only column 0 beats rows 1..4: 4 anchors
    assert _hand_count_level(128, 5) == 4
    gen = FakeRotatedAnchorGenerator(strides=[128], angle_version='le90')
    assert _square_angle0(gen.grid_priors([(5, 5)])[0]) == 4


@pytest.mark.parametrize('pattern', [None, 'oc', 'le90', 'le135'])
def test_compat_anchors_bit_identical_to_numpy_reference(pattern):
    gen = FakeRotatedAnchorGenerator(strides=STRIDES, angle_version=pattern)
    for s, size, ours in zip(STRIDES, SIZES_640, gen.grid_priors(SIZES_640)):
        ref = _np_rbox(_np_mmdet_anchors(s, size), pattern)
        assert ours.dtype == torch.float32
        assert np.array_equal(ours.numpy(), ref), (pattern, s)


def test_640_square_anchor_count_both_ways():
    exact = RotatedAnchorGenerator(strides=STRIDES).grid_priors(SIZES_640)
    compat = RotatedAnchorGenerator(strides=STRIDES, compat='mmrotate1', angle_version='le90').grid_priors(SIZES_640)
    n_square = sum(p.shape[0] // 9 * 3 for p in exact)
    assert n_square == 25575
    # exact mode: every anchor at angle 0, squares exactly square
    for p in exact:
        sq = p.reshape(-1, 9, 5)[:, :3]
        assert bool((p[:, 4] == 0).all()) and torch.equal(sq[..., 2], sq[..., 3])
    # mmrotate 1.x le90: the count from the independent numpy reference, per level and in total
    ref = [_square_angle0(_np_rbox(_np_mmdet_anchors(s, size), 'le90')) for s, size in zip(STRIDES, SIZES_640)]
    ours = [_square_angle0(p.numpy()) for p in compat]
    assert ours == ref
    assert sum(ours) == 5194  # measured with mmrotate 1.0.0rc1
    assert ours[-1] == _hand_count_level(128, 5)
    # the other squares (and every ratio-2 anchor) are turned to (h, w, -pi/2); ratio 0.5 stays at 0
    angles = torch.cat(compat).reshape(-1, 9, 5)[..., 4]
    assert int((angles[:, :3] != 0).sum()) == 25575 - 5194
    assert bool((angles[:, 6:] == torch.tensor(-np.pi / 2, dtype=torch.float32)).all())
    assert bool((angles[:, 3:6] == 0).all())
    # the float32 rounding is small in size but not in effect: the compat squares differ from exact
    # ones by at most 6.2e-5 px in w/h, yet a fifth of them keep angle 0 instead of being turned
    wh_exact = torch.cat(exact).reshape(-1, 9, 5)[:, :3, 2:4]
    wh_compat = torch.cat(compat).reshape(-1, 9, 5)[:, :3, 2:4].sort(-1).values
    assert float((wh_exact - wh_compat).abs().max()) < 6.2e-5


def test_mode_arguments_are_checked():
    with pytest.raises(ValueError, match='compat'):
        RotatedAnchorGenerator(strides=[8], compat='mmrotate2')
    with pytest.raises(ValueError, match="only with compat='mmrotate1'"):
        RotatedAnchorGenerator(strides=[8], angle_version='le90')
    assert RotatedAnchorGenerator(strides=[8], compat='mmrotate0').grid_priors([(2, 2)])[0][:, 4].eq(0).all()
