"""``DeltaXYWHAOBBoxCoder(compat='mmrotate1')`` vs a numpy float32 re-implementation of mmrotate 1.x
``DeltaXYWHTRBBoxCoder`` (``bbox2delta`` / ``delta2bbox``, tests/mmrotate_np_reference.py), and
hand cases for the ``edge_swap`` tie of a GT exactly 45° from the anchor.

Hand derivation (le90, GT angle f32(π/4) = 6588397.5·2⁻²³, f32(π/2) = 6588397.5·2⁻²², f32(π) =
13176795·2⁻²²):

* anchor angle 0: ``da1 = norm(π/4)``: π/4 + π/2 = 9882596.25·2⁻²² → 9882596·2⁻²²; minus π/2 →
  ``+6588397·2⁻²³``. ``da2 = norm(π/4 + π/2)``: 9882596 + 6588397.5 = 16470993.5 → 16470994 (tie to
  even); % π → 3294199·2⁻²²; minus π/2 → ``−6588397·2⁻²³``. ``|da1| == |da2|``: mmrotate keeps the
  first description only if ``|da1| < |da2|``, so it takes the **second** (w/h swapped, ``da < 0``).
* anchor angle f32(−π/2) (a square anchor 1.x turned): ``da1 = norm(π/4 + π/2) = −6588397·2⁻²³``,
  ``da2 = norm(π/4 + π)``: 16470994 + 6588397.5 = 23059391.5 → 23059392 (grid 2⁻²¹); % π → 9882597;
  minus π/2 → ``+6588399·2⁻²³``. ``|da1| < |da2|``: the **first** description (w, h kept).

So the same GT gets swapped widths against an angle-0 anchor and unswapped ones against a turned
anchor: which of the two anchors a location has (the float32 rule of
``test_mmrotate_compat_anchors.py``) decides the regression target.
"""
import numpy as np
import pytest
import torch

from rotated_ld.models.task_modules.coders import DeltaXYWHAOBBoxCoder
from tests.mmrotate_np_reference import F32, HALF_PI
from tests.mmrotate_np_reference import np_bbox2delta as _np_bbox2delta
from tests.mmrotate_np_reference import np_delta2bbox as _np_delta2bbox

TWO_M23 = 2.0 ** -23


def _coder(v, edge_swap=True, proj_xy=True, compat='mmrotate1'):
    return DeltaXYWHAOBBoxCoder(angle_version=v, edge_swap=edge_swap, proj_xy=proj_xy, compat=compat)


# ------------------------------------------------------------------ hand cases at exactly ±45°
@pytest.mark.parametrize('compat', [None, 'mmrotate1'])
def test_edge_swap_tie_at_45_degrees_hand_cases(compat):
    coder = _coder('le90', proj_xy=False, compat=compat)
    gt = torch.tensor([[100., 100., 40., 20., float(F32(np.pi / 4))]])
    anchor0 = torch.tensor([[100., 100., 32., 32., 0.]])
    turned = torch.tensor([[100., 100., 32., 32., float(F32(-np.pi / 2))]])
    d0, dt = coder.encode(anchor0, gt)[0], coder.encode(turned, gt)[0]
    # angle-0 anchor: exact tie -> second description: (h, w) of the GT, da = -6588397·2^-23
    assert float(d0[4]) == -6588397 * TWO_M23
    assert float(d0[2]) == pytest.approx(np.log(20 / 32)) and float(d0[3]) == pytest.approx(np.log(40 / 32))
    # turned anchor: rounding breaks the tie towards the first description, da = -6588397·2^-23
    assert float(dt[4]) == -6588397 * TWO_M23
    assert float(dt[2]) == pytest.approx(np.log(40 / 32)) and float(dt[3]) == pytest.approx(np.log(20 / 32))


@pytest.mark.parametrize('v', ['le90', 'le135'])
@pytest.mark.parametrize('proj_xy', [False, True])
def test_encode_decode_bit_identical_to_numpy_reference_at_45_degrees(v, proj_xy):
    q = F32(np.pi / 4)
    angles = np.array([q, -q, q + HALF_PI, 0.3, -1.2], F32)
    gts = np.array([[50, 60, 40, 20, a] for a in angles] + [[50, 60, 30, 30, a] for a in angles], F32)
    anchor_angles = np.array([0, -np.pi / 2, 1.570796251296997], F32)  # exact/0.x, le90-turned, le135-turned
    anchors = np.array([[48, 58, 32, 32, a] for a in anchor_angles] + [[48, 58, 45.25, 22.6, a]
                                                                       for a in anchor_angles], F32)
    P = np.repeat(anchors, len(gts), 0)
    G = np.tile(gts, (len(anchors), 1))
    ref = _np_bbox2delta(P, G, v, True, proj_xy)
    ours = _coder(v, proj_xy=proj_xy).encode(torch.from_numpy(P), torch.from_numpy(G)).numpy()
    # the angle (+, −, % only: correctly rounded) and with it the edge_swap choice are bit-identical;
    # log / cos / sin are not correctly rounded, so numpy and torch may differ by an ulp there
    assert np.array_equal(ours[:, 4], ref[:, 4])
    assert np.array_equal(np.sign(ours[:, 2] - ours[:, 3]), np.sign(ref[:, 2] - ref[:, 3]))
    np.testing.assert_allclose(ours[:, :4], ref[:, :4], rtol=4e-7 * 8, atol=1e-6)
    # decoding, with the mmrotate clamp at (W - 1, H - 1)
    rng = np.random.default_rng(0)
    deltas = np.concatenate([ref, rng.normal(0, 1, ref.shape).astype(F32) * F32(3)])
    P2 = np.concatenate([P, P])
    P2[:, 2:4] = np.maximum(P2[:, 2:4], F32(1))
    ref_boxes = _np_delta2bbox(P2, deltas, v, True, proj_xy, max_shape=(64, 80))
    ours_boxes = _coder(v, proj_xy=proj_xy).decode(torch.from_numpy(P2), torch.from_numpy(deltas),
                                                   max_shape=(64, 80)).numpy()
    # near-squares (decoded |w − h| within a few ulps) are decided by exp()'s last bit, which numpy
    # and torch need not share: there compare the rectangle (sides sorted, angle mod π/2)
    near = np.abs(ref_boxes[:, 2] - ref_boxes[:, 3]) <= 1e-5 * ref_boxes[:, 2]
    assert near.sum() < len(near) // 2
    far = ~near
    np.testing.assert_allclose(ours_boxes[:, :2], ref_boxes[:, :2], rtol=4e-7 * 8, atol=1e-5)
    np.testing.assert_allclose(ours_boxes[far, :4], ref_boxes[far, :4], rtol=4e-7 * 8, atol=1e-5)
    assert np.array_equal(ours_boxes[far, 4], ref_boxes[far, 4])  # same w > h choices and angle wrap
    np.testing.assert_allclose(np.sort(ours_boxes[near, 2:4], 1), np.sort(ref_boxes[near, 2:4], 1), rtol=1e-5)
    dt = np.remainder(ours_boxes[near, 4] - ref_boxes[near, 4] + HALF_PI / 2, HALF_PI) - HALF_PI / 2
    assert np.abs(dt).max(initial=0) < 1e-6


def test_centre_clamp_compat_vs_exact():
    prior = torch.tensor([[70., 50., 16., 16., 0.], [5., 5., 16., 16., 0.]])
    deltas = torch.tensor([[5., 5., 0., 0., 0.], [-5., -5., 0., 0., 0.]])
    exact = DeltaXYWHAOBBoxCoder('le90').decode(prior, deltas, max_shape=(60, 80))
    compat = DeltaXYWHAOBBoxCoder('le90', compat='mmrotate0').decode(prior, deltas, max_shape=(60, 80))
    assert exact[:, :2].tolist() == [[80., 60.], [0., 0.]]
    assert compat[:, :2].tolist() == [[79., 59.], [0., 0.]]  # mmrotate: the last pixel index


def test_decoded_square_tie_follows_mmrotate():
    prior = torch.tensor([[10., 10., 8., 8., 0.3]])
    d = torch.zeros(1, 5)
    # w == h: mmrotate keeps (w, h, t) only where w > h -> turned by pi/2; the exact mode keeps it
    assert DeltaXYWHAOBBoxCoder('le90', edge_swap=True, compat='mmrotate1').decode(prior, d)[0, 4].item() == \
        pytest.approx(0.3 + np.pi / 2 - np.pi, abs=1e-6)
    assert DeltaXYWHAOBBoxCoder('le90', edge_swap=True).decode(prior, d)[0, 4].item() == pytest.approx(0.3)
