"""One rbox -> polygon vertex order everywhere (mmrotate's ``rbox2qbox``).

Hand-computed: the box ``(10, 20, w=4, h=2, t=0)`` has the vertices ``(12, 21), (12, 19), (8, 19),
(8, 21)`` -- centre + (w/2, h/2), + (w/2, -h/2), - (w/2, h/2), + (-w/2, h/2): counter-clockwise on
screen (y down), negative shoelace sum. The evaluation's Task1 writer and merge used their own
``rbox2poly_np`` with the opposite (clockwise) order; this test failed for it.
"""
import math

import numpy as np
import pytest
import torch

from rotated_ld.structures.bbox import poly_signed_area, rbox2poly

HAND_BOX = [10.0, 20.0, 4.0, 2.0, 0.0]
HAND_POLY = [12.0, 21.0, 12.0, 19.0, 8.0, 19.0, 8.0, 21.0]


def _converters():
    from rotated_ld.evaluation.functional import rbox2poly_np

    return {'structures.rbox2poly(np)': lambda b: rbox2poly(np.asarray(b, np.float64)),
            'structures.rbox2poly(torch)': lambda b: rbox2poly(torch.tensor(b, dtype=torch.float64)).numpy(),
            'evaluation.rbox2poly_np': rbox2poly_np}


@pytest.mark.parametrize('name', list(_converters()))
def test_hand_vertex_order(name):
    got = _converters()[name](np.array([HAND_BOX]))
    np.testing.assert_allclose(got, [HAND_POLY], atol=1e-12)


@pytest.mark.parametrize('name', list(_converters()))
def test_orientation_and_agreement_on_random_boxes(name):
    rng = np.random.default_rng(0)
    b = np.concatenate([rng.uniform(0, 500, (200, 2)), rng.uniform(1, 90, (200, 2)),
                        rng.uniform(-2 * math.pi, 2 * math.pi, (200, 1))], 1)
    got = _converters()[name](b)
    ref = rbox2poly(b)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-9)
    area = poly_signed_area(got)
    np.testing.assert_allclose(area, -b[:, 2] * b[:, 3], rtol=1e-9)
