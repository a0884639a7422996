"""ResNet backbone: shapes, torchvision/mmdet key compatibility, freezing, norm_eval, DCN, local init."""
import pytest
import torch
import torch.nn.functional as F
import torchvision

from rotated_ld.models.backbones import ResNet
from rotated_ld.models.layers import DeformConv2dPack


@pytest.mark.parametrize('depth', [18, 34, 50, 101])
def test_torchvision_key_names_and_shapes(depth):
    with torch.device('meta'):  # no memory, no init cost: only names and shapes are compared
        ours = ResNet(depth).state_dict()
        tv = getattr(torchvision.models, f'resnet{depth}')().state_dict()
    tv = {k: tuple(v.shape) for k, v in tv.items() if not k.startswith('fc.')}
    assert {k: tuple(v.shape) for k, v in ours.items()} == tv


def test_forward_shapes_and_loading(seed):
    m = ResNet(18, out_indices=(0, 1, 2, 3))
    tv = {k: v for k, v in torchvision.models.resnet18().state_dict().items() if not k.startswith('fc.')}
    assert m.load_state_dict(tv, strict=True).missing_keys == []
    outs = m(torch.zeros(1, 3, 125, 130))
    assert [o.shape[1] for o in outs] == [64, 128, 256, 512]
    assert [tuple(o.shape[2:]) for o in outs] == [(32, 33), (16, 17), (8, 9), (4, 5)]
    with pytest.raises(ValueError, match='depth=42'):
        ResNet(42)


def test_bn_trains_by_default():
    m = ResNet(18, num_stages=2, out_indices=(0, 1)).train()
    before = m.bn1.running_mean.clone()
    m(torch.randn(2, 3, 32, 32))
    assert not torch.equal(before, m.bn1.running_mean)
    assert all(p.requires_grad for p in m.parameters())


def test_frozen_stages_and_norm_eval():
    m = ResNet(18, num_stages=2, out_indices=(0, 1), frozen_stages=1, norm_eval=True).train()
    for mod in (m.conv1, m.bn1, m.layer1):
        assert all(not p.requires_grad for p in mod.parameters())
    assert all(p.requires_grad for p in m.layer2.parameters())
    assert not m.layer1.training and not m.layer2[0].bn1.training  # norm_eval keeps every BN in eval
    assert m.layer2[0].conv1.training
    before = m.layer2[0].bn1.running_mean.clone()
    m(torch.randn(2, 3, 32, 32))
    assert torch.equal(before, m.layer2[0].bn1.running_mean)


def test_dcn_keys_and_zero_offset_equals_conv(seed):
    with torch.device('meta'):
        m = ResNet(50, dcn=dict(type='DCN', deform_groups=1, fallback_on_stride=False),
                   stage_with_dcn=(False, True, True, True))
    keys = set(m.state_dict())
    assert {'layer2.0.conv2.weight', 'layer2.0.conv2.conv_offset.weight',
            'layer2.0.conv2.conv_offset.bias'} <= keys
    assert 'layer1.0.conv2.conv_offset.weight' not in keys
    dcn = DeformConv2dPack(4, 6, 3, stride=2, padding=1)
    x = torch.randn(1, 4, 9, 11)
    torch.testing.assert_close(dcn(x), F.conv2d(x, dcn.weight, None, 2, 1), rtol=1e-4, atol=1e-5)
    torch.nn.init.normal_(dcn.conv_offset.weight, std=0.5)
    assert not torch.allclose(dcn(x), F.conv2d(x, dcn.weight, None, 2, 1))
    dcn(x).sum().backward()
    assert dcn.conv_offset.weight.grad is not None
    with pytest.raises(ValueError, match='Bottleneck'):
        ResNet(18, dcn=dict(type='DCN'), stage_with_dcn=(False, True, True, True))


def test_init_from_local_checkpoint_only(tmp_path):
    import rotated_ld.registry  # noqa: F401  (safe loader)
    src = ResNet(18, num_stages=1, out_indices=(0,))
    torch.nn.init.constant_(src.conv1.weight, 0.123)
    path = tmp_path / 'r18.pth'
    torch.save(src.state_dict(), path)
    m = ResNet(18, num_stages=1, out_indices=(0,), init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    m.init_weights()
    assert torch.allclose(m.conv1.weight, torch.full_like(m.conv1.weight, 0.123))
    with pytest.raises(ValueError, match='OpenMMLab'):
        ResNet(18, init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://resnet50_v1c'))
