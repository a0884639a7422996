"""ONNX export (tools/deployment/export_onnx.py, rotated_ld.deployment) of tiny slim students.

For GFL, the LD student (KD config), rotated GFL, the rotated-LD GFL student, plain and
distribution rotated RetinaNet: the exported graph run by onnxruntime (CPU) equals PyTorch
within 1e-4, and onnxruntime outputs + :func:`rotated_ld.deployment.postprocess` give the
detections of the PyTorch ``predict()`` (boxes within 1e-3, same labels and scores). The KD
teacher is not in the graph. Input 128×160 (non-square to catch H/W swaps); ~3 s per model.
"""
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip('onnxruntime', reason='the deploy extra: pip install -e .[deploy]')
pytest.importorskip('onnx', reason='the deploy extra: pip install -e .[deploy]')

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools' / 'deployment'))

CONFIGS = {
    'gfl': 'configs/gfl/gfl_r18-slim_fpn_synthetic_coco.py',
    'ld': 'configs/ld/ld-vlr-kd_r18-slim-gfl-r18-slim_fpn_synthetic_coco.py',
    'rotated_gfl': 'configs/demo/rotated-gfl_r18-slim_fpn_synthetic-dota_le90.py',
    'rotated_ld': 'configs/demo/rotated-ld_r18-slim-rgfl-r18-slim-long_fpn_synthetic-dota_le90.py',
    'rretina': 'configs/rotated_retinanet/rotated_retinanet_r18-slim_fpn_synthetic_dota_oc.py',
    'rretina_dist_ld': 'configs/rotated_ld_retinanet/rotated_ld_r18-slim-rretinanet-r34-slim_fpn_synthetic_dota_oc.py',
}
SHAPE = (128, 160)
SCALE = (0.8, 0.8)  # the image was resized by 0.8 before the network: predictions come back / 0.8


def _sharpen(model):
    """Enough candidates above score_thr to make selection and NMS matter (random init gives ~0.01)."""
    head = model.bbox_head
    cls_conv = getattr(head, 'gfl_cls', None) or head.retina_cls
    reg = getattr(head, 'gfl_reg', None) or head.retina_reg
    with torch.no_grad():
        cls_conv.bias.normal_(-3.5, 1.0)
        cls_conv.weight.mul_(20)
        reg.weight.mul_(20)
        if hasattr(head, 'gfl_angle'):
            head.gfl_angle.weight.mul_(50)
    head.test_cfg = dict(head.test_cfg, nms_pre=100, max_per_img=60)  # fewer candidates: seconds, not minutes
    return model.eval()


def _student(name, seed=0):
    from rotated_ld.apis import init_detector

    torch.manual_seed(seed)
    return _sharpen(init_detector(str(ROOT / CONFIGS[name]), None, device='cpu'))


def _image(seed=3):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(1, 3, *SHAPE, generator=g) * 255).round()


def _predict(model, image, shape=SHAPE):
    from rotated_ld.structures import DetDataSample

    h, w = shape
    s = DetDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(round(h / SCALE[1]), round(w / SCALE[0])),
                                    scale_factor=SCALE))
    with torch.no_grad():  # the model's own preprocessing, independent of the export wrapper's
        data = model.data_preprocessor(dict(inputs=[image[0]], data_samples=[s]), False)
        return model.predict(data['inputs'], data['data_samples'])[0].pred_instances


def _match(a, b, rotated):
    assert a['labels'].shape == b.labels.shape, (a['labels'].shape, b.labels.shape)
    assert torch.equal(a['labels'], b.labels)
    assert torch.allclose(a['scores'], b.scores, atol=1e-4)
    if rotated:
        # both are regularised into the model's angle version; angles compared modulo π
        assert torch.allclose(a['bboxes'][:, :4], b.bboxes[:, :4], atol=1e-3)
        dt = torch.remainder(a['bboxes'][:, 4] - b.bboxes[:, 4] + np.pi / 2, np.pi) - np.pi / 2
        assert dt.abs().max() < 1e-3
    else:
        assert torch.allclose(a['bboxes'], b.bboxes, atol=1e-3)


def _check(model, onnx_path, meta, name):
    """ORT vs PyTorch within 1e-4; ORT + postprocess == predict(); returns the max abs diffs."""
    from rotated_ld.deployment import load_deploy_meta, postprocess
    from rotated_ld.deployment.export import run_onnxruntime, verify_onnx

    image = _image()
    diffs = verify_onnx(model, onnx_path, image)
    assert max(diffs.values()) < 1e-4, diffs
    onnx_out = run_onnxruntime(onnx_path, image.numpy())
    assert {k: list(v.shape) for k, v in onnx_out.items()} == meta['outputs']
    dets = postprocess(onnx_out, load_deploy_meta(onnx_path), img_shapes=[SHAPE], scale_factors=[SCALE])[0]
    ref = _predict(model, image)
    assert ref.bboxes.shape[0] > 3, 'the test needs detections'
    _match(dets, ref, rotated=meta['box_type'] == 'rbox')
    print(name, 'max abs diff', {k: f'{v:.1e}' for k, v in diffs.items()}, f'{len(ref.bboxes)} dets')
    return diffs


@pytest.mark.parametrize('name', ['gfl', 'rotated_gfl', 'rretina_dist_ld',
                                  pytest.param('rretina', marks=pytest.mark.slow)])
def test_export_matches_pytorch_and_predict(name, tmp_path):
    from rotated_ld.deployment.export import export_onnx

    model = _student(name)
    out = str(tmp_path / f'{name}.onnx')
    meta = export_onnx(model, out, SHAPE)
    print(f'export {meta["export_seconds"]:.2f} s')
    _check(model, out, meta, name)


_SHRINK = {'model.bbox_head.stacked_convs': 1, 'model.bbox_head.feat_channels': 32, 'model.neck.out_channels': 32,
           'model.bbox_head.in_channels': 32}


@pytest.mark.parametrize('config', [
    'configs/rotated_gfl/rotated_gfl_r18_fpn_1x_dota_oc.py',  # internal le90, output regularised to oc
    pytest.param('configs/rotated_gfl/rotated_gfl_r18_fpn_1x_dota_le135.py', marks=pytest.mark.slow),
    pytest.param('configs/rotated_gfl/rotated_gfl-plainangle_r18_fpn_1x_dota_le90.py', marks=pytest.mark.slow),
    pytest.param('configs/rotated_retinanet/rotated_retinanet_distribution_r18_fpn_1x_dota_le90.py',
                 marks=pytest.mark.slow)])
def test_angle_versions_and_coders(config, tmp_path):
    """Other angle versions / the plain angle coder decode like predict() (heads shrunk to 32 ch)."""
    from rotated_ld.apis import init_detector
    from rotated_ld.deployment.export import export_onnx

    torch.manual_seed(0)
    model = _sharpen(init_detector(str(ROOT / config), None, device='cpu', cfg_options=_SHRINK))
    out = str(tmp_path / 'm.onnx')
    _check(model, out, export_onnx(model, out, SHAPE), Path(config).stem)


def test_ld_student_export_without_teacher(tmp_path):
    """The LD (KD) detector with its teacher built: the graph holds the student only, and decodes
    to the student's predictions."""
    import onnx
    from mmengine.config import Config

    from rotated_ld.deployment.export import export_onnx
    from rotated_ld.registry import MODELS

    cfg = Config.fromfile(str(ROOT / CONFIGS['ld']))
    cfg.model.teacher_ckpt = None  # a random teacher of the same size as the student
    torch.manual_seed(0)
    with pytest.warns(UserWarning):
        kd = _sharpen(MODELS.build(cfg.model))
    out = str(tmp_path / 'ld.onnx')
    meta = export_onnx(kd, out, SHAPE)
    g = onnx.load(out).graph
    n_graph = sum(int(np.prod(t.dims)) for t in g.initializer)
    student = sum(p.numel() for p in kd.parameters()) + sum(b.numel() for b in kd.buffers())
    assert n_graph <= student + 10  # (+ mean / std); the teacher would double it
    assert not any('teacher' in n.name for n in list(g.node) + list(g.initializer))
    _check(kd, out, meta, 'ld')


def test_cli_rotated_ld_student(tmp_path, capsys):
    """tools/deployment/export_onnx.py on a checkpoint of the rotated-LD GFL student (KD config)."""
    import export_onnx as cli

    from rotated_ld.deployment import load_deploy_meta

    model = _student('rotated_ld')
    ckpt = tmp_path / 'student.pth'
    from rotated_ld.engine.hooks.checkpoint_meta_hook import convention_meta

    torch.save(dict(state_dict=model.state_dict(), meta=convention_meta(model, model.dataset_meta['classes'])), ckpt)
    out = tmp_path / 'rld.onnx'
    rc = cli.main([str(ROOT / CONFIGS['rotated_ld']), str(ckpt), '--out', str(out), '--shape', *map(str, SHAPE),
                   '--verify', '--cfg-options', 'model.test_cfg.nms_pre=100', 'model.test_cfg.max_per_img=60'])
    text = capsys.readouterr().out
    assert rc == 0 and 'max abs diff' in text and 'angle_logits [1, 428, 36]' in text, text
    meta = load_deploy_meta(str(out))
    (tmp_path / 'rld.json').unlink()  # falls back to the ONNX metadata_props
    assert load_deploy_meta(str(out)) == meta
    assert meta['angle_version'] == 'le90' and meta['angle_coder']['angle_bins'] == 36
    _check(model, str(out), meta, 'rotated_ld')
    assert cli.main([str(ROOT / CONFIGS['rotated_ld']), 'none', '--out', str(out), '--shape', '100', '160']) == 1


def test_postprocess_refuses_other_export_meta():
    from rotated_ld.deployment import postprocess
    from rotated_ld.deployment.export import deploy_meta

    model = _student('gfl')
    meta = deploy_meta(model, (64, 64))
    with pytest.raises(ValueError, match='priors'):
        postprocess({'cls_logits': np.zeros((1, 10, 8), np.float32), 'bbox_pred': np.zeros((1, 10, 68), np.float32)},
                    meta)


@pytest.mark.parametrize('name', ['rotated_gfl', 'rretina_dist_ld'])
def test_dynamic_export_other_shape_and_batch(name, tmp_path):
    """Exported at 128x160 with ``dynamic=True``, run at batch 2 and 160x224: onnxruntime equals PyTorch
    within 1e-4 and postprocess(input_shape=...) gives each image's predict(); a static meta refuses
    another input_shape."""
    from rotated_ld.deployment import load_deploy_meta, postprocess
    from rotated_ld.deployment.export import DenseExportWrapper, export_onnx, output_names, run_onnxruntime

    model = _student(name)
    out = str(tmp_path / f'{name}.onnx')
    meta = export_onnx(model, out, SHAPE, dynamic=True)
    assert meta['dynamic'] and load_deploy_meta(out)['dynamic']
    shape2 = (160, 224)
    g = torch.Generator().manual_seed(4)
    images = (torch.rand(2, 3, *shape2, generator=g) * 255).round()
    got = run_onnxruntime(out, images.numpy())
    with torch.no_grad():
        ref = DenseExportWrapper(model)(images)
    for n, r in zip(output_names(meta['kind']), ref):
        assert got[n].shape == tuple(r.shape) and r.shape[0] == 2
        # float32 noise of a different conv algorithm at another shape: 1e-4 absolute + 1e-5 relative
        # (the sharpened angle logits reach |16|)
        assert torch.allclose(torch.from_numpy(got[n]), r, atol=1e-4, rtol=1e-5), n
    dets = postprocess(got, load_deploy_meta(out), input_shape=shape2, img_shapes=[shape2] * 2,
                       scale_factors=[SCALE] * 2)
    for i in range(2):
        exp = _predict(model, images[i:i + 1], shape2)
        assert exp.bboxes.shape[0] > 3, 'the test needs detections'
        _match(dets[i], exp, rotated=True)
    with pytest.raises(ValueError, match='static shape'):
        postprocess(got, dict(meta, dynamic=False), input_shape=shape2)
