"""Backbone weights named the mmdet way (torchvision:// / open-mmlab:// / URLs) resolve through torch's hub
cache in a temporary TORCH_HOME; absent files give one line with the place and the fetch command; no
socket is ever opened (connect is made to fail)."""
import socket

import pytest
import torch
from mmengine.runner.checkpoint import CheckpointLoader

import rotated_ld.registry  # noqa: F401  (registers the schemes)
from rotated_ld.models.backbones import ResNet
from rotated_ld.utils.pretrained import hub_cache_path, model_url, resolve_pretrained

# torchvision's published file names (the hash suffix is part of the name torch.hub caches under)
R18 = 'https://download.pytorch.org/models/resnet18-f37072fd.pth'


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    def no_network(*a, **k):
        raise AssertionError('a test tried to open a network connection')
    monkeypatch.setattr(socket.socket, 'connect', no_network)
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    return tmp_path / 'torch_home' / 'hub' / 'checkpoints'


def _torchvision_style_r18(path):
    src = ResNet(18)
    torch.nn.init.constant_(src.conv1.weight, 0.25)
    state = dict(src.state_dict(), **{'fc.weight': torch.zeros(1000, 512), 'fc.bias': torch.zeros(1000)})
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)


def test_names_map_to_the_hub_cache_file(offline):
    assert model_url('torchvision://resnet18') == R18
    assert model_url('modelzoo://resnet18') == R18
    assert hub_cache_path(R18) == str(offline / 'resnet18-f37072fd.pth')
    # deprecated open-mmlab alias -> detectron/resnet50_caffe, as MMEngine
    assert model_url('open-mmlab://resnet50_caffe').endswith('/resnet50_caffe-788b5fa3.pth')
    with pytest.raises(KeyError, match='did you mean torchvision://resnet50'):
        model_url('torchvision://resnet5O')


def test_backbone_loads_torchvision_name_from_the_cache(offline):
    _torchvision_style_r18(offline / 'resnet18-f37072fd.pth')
    m = ResNet(18, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18'))
    assert not torch.allclose(m.conv1.weight, torch.full_like(m.conv1.weight, 0.25))
    m.init_weights()
    torch.testing.assert_close(m.conv1.weight, torch.full_like(m.conv1.weight, 0.25))


def test_absent_file_is_one_line_with_place_and_command(offline):
    m = ResNet(18, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18'))
    with pytest.raises(FileNotFoundError) as e:
        m.init_weights()
    msg = str(e.value)
    assert '\n' not in msg
    assert f'put it at {offline / "resnet18-f37072fd.pth"}' in msg
    assert f'curl -L -o resnet18-f37072fd.pth {R18}' in msg


def test_urls_and_open_mmlab_names_read_the_cache(offline):
    offline.mkdir(parents=True)
    torch.save({'w': torch.ones(2)}, offline / 'resnet50_caffe-788b5fa3.pth')
    torch.save({'v': torch.zeros(1)}, offline / 'x.pth')
    assert CheckpointLoader.load_checkpoint('open-mmlab://resnet50_caffe')['w'].sum() == 2
    assert 'v' in CheckpointLoader.load_checkpoint('https://example.com/models/x.pth?raw=1')
    with pytest.raises(FileNotFoundError, match='y.pth is not in the torch hub cache'):
        CheckpointLoader.load_checkpoint('https://example.com/y.pth')


def test_refusals_and_local_paths(offline, tmp_path):
    with pytest.raises(ValueError, match="ResNet-50 weights for a ResNet-18; use 'torchvision://resnet18'"):
        ResNet(18, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50'))
    with pytest.raises(ValueError, match='OpenMMLab'):
        ResNet(50, init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://detectron2/resnet50_caffe'))
    with pytest.raises(ValueError, match='unknown model name'):
        ResNet(18, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18x'))
    _torchvision_style_r18(tmp_path / 'local' / 'r18.pth')
    assert resolve_pretrained(str(tmp_path / 'local' / 'r18.pth')) == str(tmp_path / 'local' / 'r18.pth')
    m = ResNet(18, pretrained=str(tmp_path / 'local' / 'r18.pth'))  # mmdet-2 argument, local file
    m.init_weights()
    torch.testing.assert_close(m.conv1.weight, torch.full_like(m.conv1.weight, 0.25))
