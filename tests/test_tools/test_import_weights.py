"""Weight import (tools/model_converters/import_weights.py, rotated_ld.utils.weight_import).

Each supported foreign layout is produced *from our own model* by an inverse mapping written here,
independently of the converter, from the reference repositories' key names and conventions:

* mmdet 2.x GFL: ``module.`` DDP prefix, ``meta['CLASSES']``; mmdet 3.x GFL: ``meta['dataset_meta']``
  and a message hub with ``HistoryBuffer`` (MMEngine pickle, loaded through the allow-list);
* mmdet LD: the student's keys plus a registered ``teacher_model.*`` (early LD repo);
* mmrotate 0.x rotated RetinaNet: same names, angle-0 anchors;
* mmrotate 1.x rotated RetinaNet: regression rows of the anchors that 1.x turns
  (``FakeRotatedAnchorGenerator(angle_version)``) expressed against the turned anchors; checked
  both by round trip and against a 1.x-style decoder written here;
* Rotated-LD: distribution deltas plus the ``integral.project`` / ``integral_angle.project`` buffers;
* torchvision ResNet-18 ``state_dict`` (with ``fc``) → our backbone; features equal torchvision's.

Conversion back must give identical predictions (small input, eval mode). CPU, ~1 s per test.
"""
import math
import re
import sys
from pathlib import Path

import pytest
import torch

from tests.detection_match import assert_same_detections

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools' / 'model_converters'))

GFL = str(ROOT / 'configs/gfl/gfl_r18-slim_fpn_synthetic_coco.py')
LD = str(ROOT / 'configs/ld/ld-vlr-kd_r18-slim-gfl-r18-slim_fpn_synthetic_coco.py')
RRETINA = str(ROOT / 'configs/rotated_retinanet/rotated_retinanet_r18-slim_fpn_synthetic_dota_oc.py')
RRETINA_DIST = str(ROOT / 'configs/rotated_retinanet'
                   / 'rotated_retinanet_distribution_kld_r18-slim_fpn_synthetic_dota_oc.py')
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
    assert import_weights.main(argv) == 0
    return init_detector(config, str(dst), device='cpu'), dst


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


def test_mmrotate0_retinanet_round_trip(tmp_path, capsys):
    model = _model(RRETINA)
    x = _inputs()
    ours, _ = _convert_and_load(_to_foreign(model.state_dict(), MMROTATE_RETINA_NAMES), 'mmrotate0-retinanet',
                                RRETINA, tmp_path, dict(CLASSES=_classes(RRETINA)))
    assert _same_outputs(_raw(ours, x), _raw(model, x))
    a, b = _predict(ours, x), _predict(model, x)
    assert torch.equal(a.bboxes, b.bboxes) and torch.equal(a.labels, b.labels)


# mmrotate 1.x: FakeRotatedAnchorGenerator + RotatedBoxes.regularize_boxes, written from the 1.x source
def _mmrotate1_regularize(boxes, pattern):
    x, y, w, h, t = boxes.unbind(-1)
    if pattern in ('le90', 'le135'):
        start = -math.pi / 2 if pattern == 'le90' else -math.pi / 4
        w_, h_ = torch.where(w > h, w, h), torch.where(w > h, h, w)
        t = torch.where(w > h, t, t + math.pi / 2)
        t = ((t - start) % math.pi) + start
    else:  # oc
        start = -math.pi / 2
        t = (t - start) % math.pi
        w_, h_ = torch.where(t < math.pi / 2, w, h), torch.where(t < math.pi / 2, h, w)
        t = torch.where(t < math.pi / 2, t, t - math.pi / 2) + start
    return torch.stack([x, y, w_, h_, t], -1)


def _mmrotate1_decode(anchors, d):  # DeltaXYWHTRBBoxCoder.decode, proj_xy=False, norm_factor=None, stds 1
    px, py, pw, ph, pt = anchors.unbind(-1)
    dx, dy, dw, dh, dt = d.unbind(-1)
    clip = abs(math.log(16 / 1000))
    return torch.stack([px + pw * dx, py + ph * dy, pw * dw.clamp(-clip, clip).exp(),
                        ph * dh.clamp(-clip, clip).exp(), pt + dt], -1)


def _inverse_mmrotate1(sd, head, pattern):
    """Our (angle-0 anchor) rows → rows of a 1.x head whose anchors were regularised to ``pattern``."""
    sd = {k: v.clone() for k, v in sd.items()}
    wh = head.prior_generator.base_wh(0).double()
    w, h = sd['bbox_head.retina_reg.weight'], sd['bbox_head.retina_reg.bias']
    for a in range(wh.shape[0]):
        turned = pattern == 'oc' or not bool(wh[a, 0] > wh[a, 1])
        if not turned:
            continue
        r = float(wh[a, 1] / wh[a, 0])
        for t in (w, h):
            blk = t[a * 5:a * 5 + 5].clone()
            # 1.x box (pw·e^dw, ph·e^dh) with (pw, ph) = (h0, w0) equals ours with dw' = dh, dh' = dw;
            # centre: h0·dx = w0·dx'  →  dx = dx' / r ; w0·dy = h0·dy'  →  dy = dy' · r
            t[a * 5 + 0], t[a * 5 + 1] = blk[0] / r, blk[1] * r
            t[a * 5 + 2], t[a * 5 + 3] = blk[3], blk[2]
    return sd


def _same_rboxes(a, b, atol=1e-3):
    from rotated_ld.structures.bbox import regularize_rboxes

    a, b = regularize_rboxes(a.double(), 'le90'), regularize_rboxes(b.double(), 'le90')
    dt = torch.remainder(a[:, 4] - b[:, 4] + math.pi / 2, math.pi) - math.pi / 2
    return torch.allclose(a[:, :4], b[:, :4], atol=atol, rtol=1e-5) and bool((dt.abs() < 1e-4).all())


@pytest.mark.parametrize('pattern', ['le90', 'oc'])
def test_mmrotate1_retinanet_round_trip_and_1x_decoding(tmp_path, pattern):
    model = _model(RRETINA)
    head = model.bbox_head
    x = _inputs()
    foreign = _inverse_mmrotate1(_to_foreign(model.state_dict(), MMROTATE_RETINA_NAMES), head, pattern)
    ours, _ = _convert_and_load(foreign, 'mmrotate1-retinanet', RRETINA, tmp_path, src_angle_version=pattern)
    a, b = _predict(ours, x), _predict(model, x)
    # the converted regression rows round differently (/ r, · r): the same detections as a set, not
    # position by position (the class rows are copied, so the scores are bit-identical)
    assert_same_detections(a, b, rotated=True, score_tol=0.0, box_atol=1e-3, box_rtol=1e-5)

    # semantic check, independent of the inverse above: the 1.x decoder on the foreign weights' raw
    # outputs with 1.x (turned) anchors gives the same rectangles as our decoder on the converted weights
    foreign_model = _model(RRETINA)
    foreign_model.load_state_dict(foreign)
    cls_f, reg_f = _raw(foreign_model, x)
    flat_f = head.flat_outputs(cls_f, reg_f)
    anchors_1x = _mmrotate1_regularize(flat_f.priors, pattern)
    boxes_1x = _mmrotate1_decode(anchors_1x, flat_f.deltas[0])
    flat_o = ours.bbox_head.flat_outputs(*_raw(ours, x))
    boxes_ours = ours.bbox_head.bbox_coder.decode(flat_o.priors, flat_o.deltas[0])
    assert _same_rboxes(boxes_1x, boxes_ours, atol=1e-3)
    # and the unconverted weights do NOT decode the same (the failure mode this converter removes)
    assert not _same_rboxes(boxes_1x, head.bbox_coder.decode(flat_f.priors, flat_f.deltas[0]), atol=1e-2)


def test_mmrotate1_needs_config(tmp_path):
    from rotated_ld.utils.weight_import import WeightImportError, convert_state_dict

    with pytest.raises(WeightImportError, match='needs --config'):
        convert_state_dict({'bbox_head.retina_reg.weight': torch.zeros(45, 4, 3, 3)}, 'mmrotate1-retinanet',
                           None, src_angle_version='le90')


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
    a, b = _predict(ours, x), _predict(model, x)
    assert torch.equal(a.bboxes, b.bboxes) and torch.equal(a.labels, b.labels)
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
    assert rc == 1 and 'SHAPE MISMATCHES' in err and 'reg_max=None' in err
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
