"""FPN: output shapes for every extra-conv mode on odd sizes, mmdet key names."""
import pytest
import torch

from rotated_ld.models.necks import FPN

IN = [8, 16, 32, 64]


def feats():
    return [torch.randn(2, c, s, s + 1) for c, s in zip(IN, (32, 16, 8, 4))]


@pytest.mark.parametrize('extra', [False, 'on_input', 'on_lateral', 'on_output'])
def test_fpn_shapes(seed, extra):
    m = FPN(IN, 6, num_outs=5, start_level=1, add_extra_convs=extra)
    outs = m(feats())
    assert [tuple(o.shape) for o in outs] == [(2, 6, 16, 17), (2, 6, 8, 9), (2, 6, 4, 5), (2, 6, 2, 3),
                                              (2, 6, 1, 2)]


def test_fpn_keys_and_relu_option(seed):
    m = FPN(IN, 6, num_outs=5, start_level=1, add_extra_convs='on_output', relu_before_extra_convs=True)
    keys = set(m.state_dict())
    assert {'lateral_convs.0.conv.weight', 'fpn_convs.4.conv.bias'} <= keys
    assert len(m.lateral_convs) == 3 and len(m.fpn_convs) == 5
    m.init_weights()
    outs = m(feats())
    assert len(outs) == 5
    with pytest.raises(ValueError, match='add_extra_convs'):
        FPN(IN, 6, num_outs=5, add_extra_convs='on_top')
