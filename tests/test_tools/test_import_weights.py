"""Weight import (tools/model_converters/import_weights.py, rotated_ld.utils.weight_import).

Each supported foreign layout is produced *from our own model* by an inverse mapping written here,
independently of the converter, from the reference repositories' key names and conventions:

* mmdet 2.x GFL: ``module.`` DDP prefix, ``meta['CLASSES']``; mmdet 3.x GFL: ``meta['dataset_meta']``
  and a message hub with ``HistoryBuffer`` (MMEngine pickle, loaded through the allow-list);
* mmdet LD: the student's keys plus a registered ``teacher_model.*`` (early LD repo);
* mmrotate 0.x rotated RetinaNet: same names, angle-0 anchors;
* mmrotate 0.x / 1.x rotated RetinaNet and Rotated-LD: the weights are copied and the written
  config switches to mmrotate's anchors and decoding (compat modes); every anchor's decoded box is
  checked against numpy float32 re-implementations of the upstream anchor generators and
  ``delta2bbox`` (tests/mmrotate_np_reference.py), anchors bit for bit;
* Rotated-LD: distribution deltas plus the ``integral.project`` / ``integral_angle.project`` buffers;
* torchvision ResNet-18 ``state_dict`` (with ``fc``) → our backbone; features equal torchvision's.

Conversion back must give identical raw outputs and predictions (small input, eval mode). CPU, ~1 s per test.
"""
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools' / 'model_converters'))

GFL = str(ROOT / 'configs/gfl/gfl_r18-slim_fpn_synthetic_coco.py')
LD = str(ROOT / 'configs/ld/ld-vlr-kd_r18-slim-gfl-r18-slim_fpn_synthetic_coco.py')
RRETINA = str(ROOT / 'configs/rotated_retinanet/rotated_retinanet_r18-slim_fpn_synthetic_dota_oc.py')
RRETINA_DIST = str(ROOT / 'configs/rotated_retinanet'
                   / 'rotated_retinanet_distribution_kld_r18-slim_fpn_synthetic_dota_oc.py')
RETINAGFL = str(ROOT / 'configs/gfl/retinanet-gfl_r18-slim_fpn_synthetic_coco.py')
H = W = 96


def _model(config, seed=0):
    from rotated_ld.apis.weight_import import build_target_model

    torch.manual_seed(seed)
    model, _ = build_target_model(config)
    with torch.no_grad():  # non-trivial BN statistics, scales and biases so that a wrong copy shows
        for k, v in model.state_dict().items():
            if v.dtype.is_floating_point and not k.endswith('integral.project'):
                if k.endswith('running_var'):
                    v.copy_(torch.rand_like(v) + 0.5)
                elif k.endswith(('bias', 'running_mean', 'scale')):
                    v.add_(torch.randn_like(v) * 0.1)
    return model.eval()


def _classes(config):
    from mmengine.config import Config

    from rotated_ld.apis.inference import _config_metainfo

    return tuple(_config_metainfo(Config.fromfile(config))['classes'])


def _inputs(seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(1, 3, H, W, generator=g) * 2 - 1


def _predict(model, x):
    from rotated_ld.structures import DetDataSample

    s = DetDataSample(metainfo=dict(img_shape=(H, W), ori_shape=(H, W), scale_factor=(1.0, 1.0), pad_shape=(H, W)))
    with torch.no_grad():
        return model.predict(x, [s])[0].pred_instances


def _raw(model, x):
    with torch.no_grad():
        return model._forward(x)


def _same_outputs(a, b):
    return all(torch.equal(p, q) for la, lb in zip(a, b) for p, q in zip(la, lb))


def _convert_and_load(foreign_sd, layout, config, tmp_path, meta=None, extra=None, **options):
    """Save the foreign checkpoint, run the CLI, load the output through init_detector (safe loader)."""
    import import_weights

    from rotated_ld.apis import init_detector

    src, dst = tmp_path / f'{layout}.pth', tmp_path / f'{layout}_ours.pth'
    ckpt = dict(state_dict=foreign_sd, meta=meta or {})
    ckpt.update(extra or {})
    torch.save(ckpt, src)
    argv = [str(src), str(dst), '--from', layout, '--config', config]
    if 'src_angle_version' in options:
        argv += ['--src-angle-version', options['src_angle_version']]
    if 'anchors' in options:
        argv += ['--anchors', options['anchors']]
    assert import_weights.main(argv) == 0
    out_config = dst.with_suffix('.py')  # written for rotated RetinaNet layouts (mmrotate anchors)
    return init_detector(str(out_config) if out_config.exists() else config, str(dst), device='cpu'), dst


# ------------------------------------------------------------------ inverse layouts (test side)
MMDET_GFL_NAMES = [r'^backbone\.(conv1|bn1|layer[1-4]\.\d+\.(conv[1-3]|bn[1-3]|downsample\.[01]))\.',
                   r'^neck\.(lateral_convs|fpn_convs)\.\d+\.conv\.',
                   r'^bbox_head\.((cls|reg)_convs\.\d+\.(conv|gn)|gfl_cls|gfl_reg|scales\.\d+|integral)\.']
MMROTATE_RETINA_NAMES = MMDET_GFL_NAMES[:2] + [r'^bbox_head\.((cls|reg)_convs\.\d+\.conv|retina_cls|retina_reg)\.']


def _to_foreign(sd, patterns, prefix=''):
    """Our names → the reference names: every key must match one reference pattern (names equal)."""
    out = {}
    for k, v in sd.items():
        assert any(re.match(p, k) for p in patterns), f'{k} has no counterpart in the reference layout'
        out[prefix + k] = v.clone()
    return out


# ------------------------------------------------------------------ tests
@pytest.mark.parametrize('version', ['mmdet2', 'mmdet3'])
def test_mmdet_gfl_round_trip(tmp_path, version, capsys):
    from mmengine.logging import HistoryBuffer

    model = _model(GFL)
    x = _inputs()
    classes = _classes(GFL)
    if version == 'mmdet2':  # DDP prefix, CLASSES in meta, no num_batches_tracked (older BN)
        sd = {k: v for k, v in model.state_dict().items() if not k.endswith('num_batches_tracked')}
        foreign = _to_foreign(sd, MMDET_GFL_NAMES, prefix='module.')
        meta, extra = dict(CLASSES=classes, mmdet_version='2.25.0', config='...'), {}
    else:  # mmdet 3: dataset_meta + MMEngine message hub (HistoryBuffer through the allow-list)
        foreign = _to_foreign(model.state_dict(), MMDET_GFL_NAMES)
        meta = dict(dataset_meta=dict(classes=classes), epoch=12, mmengine_version='0.10.7')
        extra = dict(message_hub=dict(log_scalars={'train/loss': HistoryBuffer([1.0, 0.5], [1, 1])}))
    ours, dst = _convert_and_load(foreign, 'mmdet-gfl', GFL, tmp_path, meta, extra)
    out = capsys.readouterr().out
    assert 'weight import (mmdet-gfl)' in out and '0 shape mismatches' in out
    assert ('renamed (' in out) == (version == 'mmdet2')
    assert _same_outputs(_raw(ours, x), _raw(model, x))
    a, b = _predict(ours, x), _predict(model, x)
    assert torch.equal(a.bboxes, b.bboxes) and torch.equal(a.labels, b.labels)
    saved = torch.load(dst, weights_only=True)  # plain tensors + builtin meta
    assert saved['meta']['converted_from']['layout'] == 'mmdet-gfl' and saved['meta']['box_type'] == 'hbox'
    assert tuple(saved['meta']['classes']) == classes and saved['meta']['num_classes'] == 8


def test_mmdet_ld_drops_registered_teacher(tmp_path, capsys):
    model = _model(LD)
    x = _inputs()
    foreign = _to_foreign(model.state_dict(), MMDET_GFL_NAMES)
    for k, v in list(foreign.items()):  # early LD repo: the teacher was a registered submodule
        foreign['teacher_model.' + k] = torch.randn(*(2 * s for s in v.shape)) if v.ndim else v.clone()
    ours, _ = _convert_and_load(foreign, 'mmdet-ld', LD, tmp_path)
    out = capsys.readouterr().out
    assert 'teacher weights' in out and 'teacher_model.' in out
    assert _same_outputs(_raw(ours, x), _raw(model, x))


def _all_boxes(model, x):
    """Every anchor's decoded box ``(N, 5)`` (no selection, no NMS) with the head's own anchors and
    coder, centres clamped as at test time, plus the anchors and the deltas."""
    head = model.bbox_head
    flat = head.build_flat_outputs(*_raw(model, x))
    max_shape = (H, W) if head.bbox_coder.compat is not None else None
    return head.bbox_coder.decode(flat.priors, flat.deltas[0], max_shape=max_shape), flat.priors, flat.deltas[0]


def _np_reference_boxes(model, deltas, anchor_pattern, coder_version, edge_swap, proj_xy):
    """The source framework's boxes, numpy float32 (tests/mmrotate_np_reference.py): mmdet anchors
    (regularised to ``anchor_pattern`` as 1.x, None = 0.x) and mmrotate's delta2bbox with the clamp."""
    from tests.mmrotate_np_reference import np_delta2bbox, np_mmdet_anchors, np_rbox

    gen = model.bbox_head.prior_generator
    sizes = [(-(-H // s), -(-W // s)) for s in gen.strides]
    anchors = np.concatenate([np_rbox(np_mmdet_anchors(s, f), anchor_pattern) for s, f in zip(gen.strides, sizes)])
    boxes = np_delta2bbox(anchors, deltas.numpy(), coder_version, edge_swap, proj_xy, max_shape=(H, W))
    return torch.from_numpy(anchors), torch.from_numpy(boxes)


def test_mmrotate0_retinanet_round_trip(tmp_path, capsys):
    model = _model(RRETINA)
    x = _inputs()
    ours, dst = _convert_and_load(_to_foreign(model.state_dict(), MMROTATE_RETINA_NAMES), 'mmrotate0-retinanet',
                                  RRETINA, tmp_path, dict(CLASSES=_classes(RRETINA)))
    assert "compat='mmrotate0'" in capsys.readouterr().out and dst.with_suffix('.py').exists()
    assert ours.bbox_head.prior_generator.compat == 'mmrotate0' == ours.bbox_head.bbox_coder.compat
    assert _same_outputs(_raw(ours, x), _raw(model, x))  # weights copied as they are
    boxes, priors, deltas = _all_boxes(ours, x)
    ref_anchors, ref = _np_reference_boxes(ours, deltas, None, 'oc', False, False)
    assert torch.equal(priors, ref_anchors)  # 0.x float32 anchors, bit for bit
    assert torch.allclose(boxes, ref, rtol=3e-6, atol=1e-4)
    _predict(ours, x)  # runs with the clamp


def _rbox_close(a, b, atol=1e-3):
    """Per row: the same rectangle (regularised to le90 in float64), ``(N,)`` bool."""
    from rotated_ld.structures.bbox import regularize_rboxes

    a, b = regularize_rboxes(a.double(), 'le90'), regularize_rboxes(b.double(), 'le90')
    dt = torch.remainder(a[:, 4] - b[:, 4] + math.pi / 2, math.pi) - math.pi / 2
    return ((a[:, :4] - b[:, :4]).abs() <= atol + 1e-5 * b[:, :4].abs()).all(1) & (dt.abs() < 1e-4)


def _le90_config(tmp_path):
    """The head of mmrotate 1.x rotated-retinanet-rbox-le90 (le90, edge_swap, proj_xy) on the small model."""
    path = tmp_path / 'rretina_le90.py'
    path.write_text(f"_base_ = {RRETINA!r}\nmodel = dict(bbox_head=dict(angle_version='le90', bbox_coder=dict("
                    "angle_version='le90', edge_swap=True, proj_xy=True)))\n")
    return str(path)


@pytest.mark.parametrize('pattern', ['le90', 'oc'])
def test_mmrotate1_retinanet_matches_1x_anchors_and_decoding(tmp_path, pattern):
    config = _le90_config(tmp_path) if pattern == 'le90' else RRETINA
    coder = ('le90', True, True) if pattern == 'le90' else ('oc', False, False)
    model = _model(config)
    x = _inputs()
    # a 1.x checkpoint has our key names; its rows are deltas against 1.x's (regularised) anchors
    foreign = _to_foreign(model.state_dict(), MMROTATE_RETINA_NAMES)
    ours, dst = _convert_and_load(foreign, 'mmrotate1-retinanet', config, tmp_path, src_angle_version=pattern)
    gen = ours.bbox_head.prior_generator
    assert (gen.compat, gen.angle_version) == ('mmrotate1', pattern)
    assert torch.load(dst, weights_only=True)['meta']['converted_from']['compat'] == 'mmrotate1'
    boxes, priors, deltas = _all_boxes(ours, x)
    ref_anchors, ref = _np_reference_boxes(ours, deltas, pattern, *coder)
    assert torch.equal(priors, ref_anchors)  # 1.x anchors bit for bit, float32 turns included
    assert bool(_rbox_close(boxes, ref, atol=1e-4).all())
    _predict(ours, x)

    # the previous conversion (--anchors exact: this project's anchors, rows of turned anchors
    # re-expressed) is exact everywhere except where float32 rounding left a 1.x square anchor at
    # angle 0: there (and only there) its boxes differ
    (tmp_path / 'x').mkdir()
    exact, _ = _convert_and_load(foreign, 'mmrotate1-retinanet', config, tmp_path / 'x',
                                 src_angle_version=pattern, anchors='exact')
    assert exact.bbox_head.prior_generator.compat is None
    flat = exact.bbox_head.build_flat_outputs(*_raw(exact, x))
    boxes_exact = exact.bbox_head.bbox_coder.decode(flat.priors, flat.deltas[0])
    inside = (ref[:, 0] > 0) & (ref[:, 0] < W - 1) & (ref[:, 1] > 0) & (ref[:, 1] < H - 1)  # not clamped
    square_unturned = torch.zeros(len(ref), dtype=torch.bool)
    square_unturned.view(-1, 9)[:, :3] = ref_anchors.view(-1, 9, 5)[:, :3, 4] == 0
    differs = ~_rbox_close(boxes_exact, ref, atol=1e-3)
    if pattern == 'oc':  # oc turns every anchor: nothing is left at angle 0
        assert not bool(square_unturned.any())
    else:
        assert int(square_unturned.sum()) > 0
    assert torch.equal(differs & inside, square_unturned & inside & (deltas[:, 2] != deltas[:, 3]))


def test_mmrotate1_exact_anchors_need_config(tmp_path):
    from rotated_ld.utils.weight_import import WeightImportError, convert_state_dict

    with pytest.raises(WeightImportError, match='needs --config'):
        convert_state_dict({'bbox_head.retina_reg.weight': torch.zeros(45, 4, 3, 3)}, 'mmrotate1-retinanet',
                           None, src_angle_version='le90', anchors='exact')


def test_rotated_ld_round_trip_and_support_check(tmp_path, capsys):
    from rotated_ld.utils.weight_import import WeightImportError, convert_state_dict

    model = _model(RRETINA_DIST)
    x = _inputs()
    foreign = _to_foreign(model.state_dict(), MMROTATE_RETINA_NAMES)
    # Rotated-LD's persistent Integral buffers: linspace(-2, 2, R) and linspace(-5, 2, R), R = reg_max + 1
    foreign['bbox_head.integral.project'] = torch.linspace(-2, 2, 9)
    foreign['bbox_head.integral_angle.project'] = torch.linspace(-5, 2, 9)
    assert foreign['bbox_head.retina_reg.weight'].shape[0] == 9 * 5 * 9  # A·5·(reg_max+1)
    ours, _ = _convert_and_load(foreign, 'rotated-ld', RRETINA_DIST, tmp_path)
    assert 'checked' in capsys.readouterr().out
    assert _same_outputs(_raw(ours, x), _raw(model, x))
    # Rotated-LD decodes as mmrotate 0.x (float32 anchors at angle 0, centres clamped at W-1 / H-1)
    boxes, priors, deltas = _all_boxes(ours, x)
    ref_anchors, ref = _np_reference_boxes(ours, deltas, None, 'oc', False, False)
    assert torch.equal(priors, ref_anchors) and torch.allclose(boxes, ref, rtol=3e-6, atol=1e-4)
    foreign['bbox_head.integral_angle.project'] = torch.linspace(-2, 2, 9)
    with pytest.raises(WeightImportError, match='support'):
        convert_state_dict(foreign, 'rotated-ld', model)


def test_plain_weights_into_distribution_config_is_refused(tmp_path, capsys):
    import import_weights

    model = _model(RRETINA)
    src = tmp_path / 'plain.pth'
    torch.save(dict(state_dict=model.state_dict()), src)
    rc = import_weights.main([str(src), str(tmp_path / 'o.pth'), '--from', 'mmrotate0-retinanet',
                              '--config', RRETINA_DIST])
    err = capsys.readouterr().err
    assert rc == 2 and 'SHAPE MISMATCHES' in err and 'reg_max=None' in err
    assert not (tmp_path / 'o.pth').exists()


def test_torchvision_resnet18_backbone(tmp_path, capsys):
    import torchvision

    from rotated_ld.apis.weight_import import import_weights
    from rotated_ld.models.backbones import ResNet

    torch.manual_seed(0)
    tv = torchvision.models.resnet18(weights=None).eval()
    with torch.no_grad():
        for m in tv.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.normal_(1, 0.1)
                m.bias.normal_(0, 0.1)
    src, dst = tmp_path / 'resnet18_tv.pth', tmp_path / 'resnet18_ours.pth'
    torch.save(tv.state_dict(), src)  # a bare state dict, as users save it
    report = import_weights(str(src), str(dst), 'torchvision-resnet', config=GFL)
    out = capsys.readouterr().out
    assert ('fc.weight', 'ImageNet classifier (no home in a detector backbone)') in report.dropped
    assert not report.missing and not report.unused and 'fc.*' in out or 'fc.weight' in out
    ours = ResNet(18, init_cfg=dict(type='Pretrained', checkpoint=str(dst))).eval()
    ours.init_weights()
    x = torch.rand(2, 3, 64, 80)
    with torch.no_grad():
        feats = ours(x)
        y = tv.maxpool(tv.relu(tv.bn1(tv.conv1(x))))
        ref = []
        for layer in (tv.layer1, tv.layer2, tv.layer3, tv.layer4):
            y = layer(y)
            ref.append(y)
    assert len(feats) == 4
    for f, r in zip(feats, ref):
        assert f.shape == r.shape and (f - r).abs().max() < 1e-5


class _CustomMeta:  # e.g. an mmcv ConfigDict pickled into an old checkpoint
    pass


def test_unsafe_pickle_is_refused_with_advice(tmp_path):
    from rotated_ld.utils.weight_import import WeightImportError, load_foreign_checkpoint

    src = tmp_path / 'custom.pth'
    torch.save(dict(state_dict={'a': torch.zeros(1)}, meta=_CustomMeta()), src)
    with pytest.raises(WeightImportError, match='re-save only the tensors'):
        load_foreign_checkpoint(str(src))
    with pytest.raises(WeightImportError, match='Jittor'):
        load_foreign_checkpoint(str(tmp_path / 'jdet.pkl'))


def test_report_without_config_names_only():
    from rotated_ld.utils.weight_import import convert_state_dict

    sd = {'module.backbone.conv1.weight': torch.zeros(1), 'teacher_model.x': torch.zeros(1)}
    out, rep = convert_state_dict(sd, 'mmdet-gfl')
    assert list(out) == ['backbone.conv1.weight'] and rep.dropped[0][0] == 'teacher_model.x'
    assert 'module.* → *' in rep.format()


def test_ld_retinagfl_renames_atss_layers(tmp_path, capsys):
    """An LD-repository RetinaGFLHead checkpoint (atss_cls / atss_reg, DDP prefix, a registered teacher)
    loads into configs/gfl/retinanet-gfl_*: same raw outputs and detections as the source model."""
    model = _model(RETINAGFL)
    x = _inputs()
    foreign = {}
    for k, v in model.state_dict().items():
        foreign['module.' + re.sub(r'^bbox_head\.retina_(cls|reg)\.', r'bbox_head.atss_\1.', k)] = v.clone()
    assert any('atss_reg' in k for k in foreign) and not any('retina_' in k for k in foreign)
    foreign['module.teacher_model.bbox_head.atss_cls.weight'] = torch.zeros(1)
    ours, _ = _convert_and_load(foreign, 'ld-retinagfl', RETINAGFL, tmp_path)
    out = capsys.readouterr().out
    assert '0 shape mismatches' in out and 'atss_{cls,reg}' in out and 'teacher' in out
    assert _same_outputs(_raw(ours, x), _raw(model, x))
    a, b = _predict(ours, x), _predict(model, x)
    assert torch.equal(a.bboxes, b.bboxes) and torch.equal(a.labels, b.labels)
