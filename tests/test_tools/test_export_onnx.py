"""ONNX export (tools/deployment/export_onnx.py, rotated_ld.deployment) of tiny slim students.

For GFL, the LD student (KD config), rotated GFL, the rotated-LD GFL student, plain and
distribution rotated RetinaNet: the exported graph run by onnxruntime (CPU) equals PyTorch
within TOL_RAW, and onnxruntime outputs + :func:`rotated_ld.deployment.postprocess` give the
detections of the PyTorch ``predict()`` as a *set* (same labels, scores and boxes within tolerances
derived from TOL_RAW, matched one-to-one; tests/detection_match.py). The models are random but
hand-conditioned (:func:`_condition`): sane boxes, unsaturated scores, and every threshold / NMS
decision clear of ties, so the comparison holds on any CPU. The KD teacher is not in the graph.
Input 128×160 (non-square to catch H/W swaps); ~3 s per model.
"""
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.detection_match import assert_same_detections, corners

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


# Tolerances, all from one number: onnxruntime and PyTorch run the same float32 graph with other
# kernels, so each dense output may differ by float32 rounding accumulated over the conv chain
# (measured ~1e-5 on logits of magnitude <~10; TOL_RAW leaves a factor ~10 for other CPUs).
TOL_RAW = 1e-4
# A score is sigmoid(logit): slope <= 1/4.
SCORE_TOL = TOL_RAW / 4 + 1e-6
# Boxes: an edge is an expectation over <= 17 bins (GFL) or a delta on a support of width <= 7
# (distribution RetinaNet), so it moves <= ~17·TOL_RAW of its stride / anchor; after _condition the
# boxes are >= ~1.5 strides, and the angle's circular mean (resultant >= 0.2) moves <= 10·TOL_RAW rad:
# corners move <= ~30·TOL_RAW of the box size. 100·TOL_RAW (1 %) still catches every decoding bug
# (a half-stride prior offset, a swapped axis, a wrong angle range are >= 10 % of the box).
BOX_RTOL, BOX_ATOL = 100 * TOL_RAW, 1e-2
# Every decision of the post-processing (score threshold, NMS suppression, NMS order) is kept at
# least this far from a tie, in logits / IoU, so outputs that differ by TOL_RAW take the same
# decisions on any machine (the failure this replaces: a random head with saturated scores (1.0000 ties)
# and boxes thousands of pixels wide, whose NMS outcome moved with the float noise of the CPU).
LOGIT_MARGIN, IOU_MARGIN = 100 * TOL_RAW, 0.025
# NMS order between two overlapping boxes: each logit moves <= TOL_RAW, so a gap of 2·TOL_RAW cannot flip.
ORDER_MARGIN = 10 * TOL_RAW


def _heads(model):
    head = model.bbox_head
    cls_conv = getattr(head, 'gfl_cls', None) or head.retina_cls
    reg_conv = getattr(head, 'gfl_reg', None) or head.retina_reg
    return head, cls_conv, reg_conv


def _standardize(conv, out, mean, std, prior=None):
    """Scale / shift ``conv`` so that its output ``out`` (..., C) (from the current weights) gets
    ``mean`` and ``std`` over all positions, plus a per-channel ``prior`` (C,) tiled over anchors."""
    a = std / float(out.std())
    conv.weight.mul_(a)
    conv.bias.mul_(a).add_(mean - a * float(out.mean()))
    if prior is not None:
        conv.bias.add_(prior.repeat(conv.bias.numel() // prior.numel()))


def _decision_iou_thr(cands, rotated, nominal):
    """An NMS IoU threshold (``nominal`` if possible) at least IOU_MARGIN from the IoU of every
    same-label candidate pair, such that overlapping pairs have clearly different scores; None if
    there is none."""
    import shapely

    ious, close_scores = [], []
    for c in cands:
        polys = shapely.polygons(corners(c['bboxes'], rotated))
        lab, logit = c['labels'].numpy(), torch.logit(c['scores'].double()).numpy()
        for i in range(len(polys)):
            for j in range(i + 1, len(polys)):
                if lab[i] == lab[j]:
                    iou = shapely.intersection(polys[i], polys[j]).area / shapely.union(polys[i], polys[j]).area
                    ious.append(iou)
                    close_scores.append((iou, abs(logit[i] - logit[j])))
    edges = np.sort(np.array([0.05, 0.9] + [v for v in ious if 0.05 < v < 0.9]))
    gaps = np.diff(edges)
    # the nominal threshold if it is clear, else the middles of the IoU gaps, widest first
    tries = [nominal] if all(abs(v - nominal) >= IOU_MARGIN for v in ious) else []
    tries += [float(edges[k:k + 2].mean()) for k in np.argsort(-gaps) if gaps[k] >= 2 * IOU_MARGIN]
    for thr in tries:
        # which of two overlapping boxes NMS keeps must not depend on a near-tie of their scores
        if all(d >= ORDER_MARGIN for iou, d in close_scores if iou > thr):
            return thr
    return None


def _condition(model, images, shape, min_dets=10, max_dets=60):
    """Hand-initialise the output convs and set ``test_cfg`` so that the test is well posed.

    Random init gives saturated scores (ties at 1.0) and boxes thousands of pixels wide. Here the
    output convs are rescaled so that, on ``images`` (B, 3, H, W): class logits ~ N(-4, 1.5²)
    (scores 0.002..0.9, no saturation); edge distributions peak at 1–2 strides (bounded prior: |logits| stay
    <~ 10, where TOL_RAW holds) (GFL; boxes a few
    strides wide) or deltas stay near 0 (RetinaNet; boxes near their anchors); angle logits ~ N(0, 1.5²).
    Then ``score_thr`` is put in the widest logit gap that leaves ``min_dets``..``max_dets``
    candidates per image, ``nms_pre`` / ``max_per_img`` no longer cut, and the NMS IoU threshold
    is kept away from every candidate pair's IoU (:func:`_decision_iou_thr`); with fewer
    candidates (``max_dets`` halved) where no such threshold exists (RetinaNet's 9 anchors per
    location give many overlapping pairs).
    """
    from rotated_ld.deployment import postprocess
    from rotated_ld.deployment.export import DenseExportWrapper, deploy_meta, output_names

    head, cls_conv, reg_conv = _heads(model)
    wrapper = DenseExportWrapper(model.eval())

    def outputs():
        with torch.no_grad():
            return dict(zip(output_names(wrapper.kind), wrapper(images)))

    with torch.no_grad():
        for s in getattr(head, 'scales', []):
            s.scale.fill_(1.0)  # one affine map per conv holds for every level
        out = outputs()
        _standardize(cls_conv, out['cls_logits'], -4.0, 1.5)
        if wrapper.kind == 'rotated_retina':
            _standardize(reg_conv, out['bbox_pred'], 0.0, 0.3)
        else:
            R = head.reg_max + 1
            _standardize(reg_conv, out['bbox_pred'], 0.0, 0.5, -2 * (torch.arange(R) - 1.5).abs().clamp(max=3))
        if 'angle_logits' in out:
            _standardize(head.gfl_angle, out['angle_logits'], 0.0, 1.5 if out['angle_logits'].shape[-1] > 1 else 0.5)
        out = outputs()
    B = images.shape[0]
    z = out['cls_logits'].flatten().sort(descending=True).values
    nominal = head.test_cfg['nms']['iou_threshold']
    while max_dets > min_dets:
        lo, hi = min_dets * B, max_dets * B
        k = lo + int(torch.argmax(z[lo - 1:hi - 1] - z[lo:hi]))  # cut between z[k-1] and z[k]
        assert z[k - 1] - z[k] >= 2 * LOGIT_MARGIN, 'no clear score threshold: change the test seed'
        head.test_cfg = dict(head.test_cfg, score_thr=float(torch.sigmoid((z[k - 1] + z[k]) / 2)), nms_pre=-1,
                             max_per_img=100000, nms=dict(head.test_cfg['nms'], iou_threshold=1.0))
        cands = postprocess(out, deploy_meta(model, shape), img_shapes=[shape] * B, scale_factors=[SCALE] * B)
        iou_thr = _decision_iou_thr(cands, wrapper.kind != 'gfl', nominal)
        if iou_thr is not None:
            head.test_cfg = dict(head.test_cfg, nms=dict(head.test_cfg['nms'], iou_threshold=iou_thr))
            return model
        max_dets //= 2
    raise AssertionError('no NMS threshold clear of every candidate pair: change the test seed')


def _image(seed=3, batch=1, shape=SHAPE):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(batch, 3, *shape, generator=g) * 255).round()


def _student(name, seed=0, images=None, shape=SHAPE):
    from rotated_ld.apis import init_detector

    torch.manual_seed(seed)
    model = init_detector(str(ROOT / CONFIGS[name]), None, device='cpu')
    return _condition(model, _image() if images is None else images, shape)


def _predict(model, image, shape=SHAPE):
    from rotated_ld.structures import DetDataSample

    h, w = shape
    s = DetDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(round(h / SCALE[1]), round(w / SCALE[0])),
                                    scale_factor=SCALE))
    with torch.no_grad():  # the model's own preprocessing, independent of the export wrapper's
        data = model.data_preprocessor(dict(inputs=[image[0]], data_samples=[s]), False)
        return model.predict(data['inputs'], data['data_samples'])[0].pred_instances


def _match(a, b, meta):
    """Same detection set (see tests/detection_match.py), each side regularised into the angle version."""
    rotated = meta['box_type'] == 'rbox'
    assert_same_detections(a, b, rotated=rotated, score_tol=SCORE_TOL, box_atol=BOX_ATOL, box_rtol=BOX_RTOL)
    if rotated:
        from rotated_ld.structures.bbox import rbox_in_range

        assert rbox_in_range(a['bboxes'], meta['angle_version'], atol=1e-6).all()
        assert rbox_in_range(b.bboxes, meta['angle_version'], atol=1e-6).all()


def _test_cfg_options(model):
    """--cfg-options giving a rebuilt model the test_cfg set by _condition."""
    c = model.bbox_head.test_cfg
    return [f'model.test_cfg.score_thr={c["score_thr"]!r}', f'model.test_cfg.nms_pre={c["nms_pre"]}',
            f'model.test_cfg.max_per_img={c["max_per_img"]}',
            f'model.test_cfg.nms.iou_threshold={c["nms"]["iou_threshold"]!r}']


def _check(model, onnx_path, meta, name):
    """ORT vs PyTorch within TOL_RAW; ORT + postprocess == predict() as detection sets."""
    from rotated_ld.deployment import load_deploy_meta, postprocess
    from rotated_ld.deployment.export import run_onnxruntime, verify_onnx

    image = _image()
    diffs = verify_onnx(model, onnx_path, image)
    assert max(diffs.values()) < TOL_RAW, diffs
    onnx_out = run_onnxruntime(onnx_path, image.numpy())
    assert {k: list(v.shape) for k, v in onnx_out.items()} == meta['outputs']
    dets = postprocess(onnx_out, load_deploy_meta(onnx_path), img_shapes=[SHAPE], scale_factors=[SCALE])[0]
    ref = _predict(model, image)
    assert ref.bboxes.shape[0] > 3, 'the test needs detections'
    _match(dets, ref, meta)
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
    model = _condition(init_detector(str(ROOT / config), None, device='cpu', cfg_options=_SHRINK), _image(), SHAPE)
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
        kd = _condition(MODELS.build(cfg.model), _image(), SHAPE)
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
    from rotated_ld.utils.checkpoint_meta import convention_meta

    torch.save(dict(state_dict=model.state_dict(), meta=convention_meta(model, model.dataset_meta['classes'])), ckpt)
    out = tmp_path / 'rld.onnx'
    rc = cli.main([str(ROOT / CONFIGS['rotated_ld']), str(ckpt), '--out', str(out), '--shape', *map(str, SHAPE),
                   '--verify', '--cfg-options', *_test_cfg_options(model)])
    text = capsys.readouterr().out
    assert rc == 0 and 'max abs diff' in text and 'angle_logits [1, 428, 36]' in text, text
    meta = load_deploy_meta(str(out))
    (tmp_path / 'rld.json').unlink()  # falls back to the ONNX metadata_props
    assert load_deploy_meta(str(out)) == meta
    assert meta['angle_version'] == 'le90' and meta['angle_coder']['angle_bins'] == 36
    _check(model, str(out), meta, 'rotated_ld')
    assert cli.main([str(ROOT / CONFIGS['rotated_ld']), 'none', '--out', str(out), '--shape', '100', '160']) == 2


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

    shape2 = (160, 224)
    images = _image(seed=4, batch=2, shape=shape2)
    model = _student(name, images=images, shape=shape2)  # well posed at the shape it is compared at
    out = str(tmp_path / f'{name}.onnx')
    meta = export_onnx(model, out, SHAPE, dynamic=True)
    assert meta['dynamic'] and load_deploy_meta(out)['dynamic']
    got = run_onnxruntime(out, images.numpy())
    with torch.no_grad():
        ref = DenseExportWrapper(model)(images)
    for n, r in zip(output_names(meta['kind']), ref):
        assert got[n].shape == tuple(r.shape) and r.shape[0] == 2
        # another conv algorithm at another shape: float32 rounding, within TOL_RAW (logits |z| <~ 10)
        assert (torch.from_numpy(got[n]) - r).abs().max() < TOL_RAW, n
    dets = postprocess(got, load_deploy_meta(out), input_shape=shape2, img_shapes=[shape2] * 2,
                       scale_factors=[SCALE] * 2)
    for i in range(2):
        exp = _predict(model, images[i:i + 1], shape2)
        assert exp.bboxes.shape[0] > 3, 'the test needs detections'
        _match(dets[i], exp, meta)
    with pytest.raises(ValueError, match='static shape'):
        postprocess(got, dict(meta, dynamic=False), input_shape=shape2)


@pytest.mark.parametrize('compat, angle_version', [('mmrotate1', 'oc'),
                                                   pytest.param('mmrotate0', None, marks=pytest.mark.slow)])
def test_postprocess_mmrotate_compat_anchors(compat, angle_version):
    """A model in an mmrotate compat mode (imported weights): the deploy meta carries the mode and
    postprocess decodes with mmrotate's anchors and centre clamp, as predict() (no ONNX needed:
    the export wrapper's outputs are the graph's)."""
    from rotated_ld.apis import init_detector
    from rotated_ld.deployment import postprocess
    from rotated_ld.deployment.export import DenseExportWrapper, deploy_meta

    opts = {'model.bbox_head.anchor_generator.compat': compat, 'model.bbox_head.bbox_coder.compat': compat,
            'model.bbox_head.anchor_generator.angle_version': angle_version}
    torch.manual_seed(0)
    image = _image()
    model = _condition(init_detector(str(ROOT / CONFIGS['rretina_dist_ld']), None, device='cpu', cfg_options=opts),
                       image, SHAPE)
    meta = deploy_meta(model, SHAPE)
    assert meta['anchors']['compat'] == compat == meta['bbox_coder']['compat']
    with torch.no_grad():
        outs = DenseExportWrapper(model)(image)
    dets = postprocess([o.numpy() for o in outs], meta, img_shapes=[SHAPE], scale_factors=[SCALE])[0]
    ref = _predict(model, image)
    assert ref.bboxes.shape[0] > 3, 'the test needs detections'
    _match(dets, ref, meta)
