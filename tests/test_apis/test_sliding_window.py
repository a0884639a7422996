"""Sliding-window inference on a scene larger than one patch (toy blob detector, CPU, seconds).

Scene 300 x 400 (H x W), patch 256, gap 64: the split tool's windows are x in {[0, 256), [144, 400)}
and y in {[0, 256), [44, 300)}, four tiles. Object A (x 200..300) straddles the first vertical
tile edge: cut (lower score) in the left tiles, whole in the right ones. Object B (x 160..220)
lies in the overlap of all four tiles. Each must be reported exactly once, in scene pixels.
"""
import numpy as np
import pytest
import torch
from toy_blob_detector import draw_scene, write_toy

from rotated_ld.apis import SceneReader, inference_detector_by_patches, init_detector, scene_windows
from rotated_ld.datasets.split import get_sliding_windows
from rotated_ld.ops import box_iou_rotated
from rotated_ld.structures.bbox import rbox2hbox

A = (200, 100, 300, 140)   # x0, y0, x1, y1 (exclusive)
B = (160, 180, 220, 230)


def _rbox(r):
    x0, y0, x1, y1 = r
    return [(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0, 0.0]


@pytest.fixture(scope='module')
def model(tmp_path_factory):
    return init_detector(write_toy(tmp_path_factory.mktemp('cfg')), None, device='cpu')


@pytest.fixture(scope='module')
def scene():
    return draw_scene(300, 400, [A, B])


def test_windows_are_the_split_tools(scene):
    w = scene_windows(300, 400, 256, 64)
    np.testing.assert_array_equal(w, get_sliding_windows(400, 300, [256], [64]))
    assert sorted(map(tuple, w.tolist())) == [(0, 0, 256, 256), (0, 44, 256, 300), (144, 0, 400, 256),
                                              (144, 44, 400, 300)]
    ms = scene_windows(300, 400, 256, 64, rates=(1.0, 2.0))
    assert set((ms[:, 2] - ms[:, 0]).tolist()) == {256, 128}


def test_straddling_object_reported_once(model, scene):
    out = inference_detector_by_patches(model, scene, patch_size=256, gap=64, batch_size=3, progress=False)
    pred = out.pred_instances
    assert out.num_tiles == 4 and out.ori_shape == (300, 400)
    assert len(pred) == 2, pred.bboxes
    ious = box_iou_rotated(pred.bboxes.double(), torch.tensor([_rbox(A), _rbox(B)], dtype=torch.float64))
    assert (ious.max(0).values > 0.95).all(), ious
    # the cut copies of A scored lower: the kept A is a whole one
    assert torch.allclose(pred.scores, pred.scores.max())
    # without NMS the same run reports every tile's copy: the merge is what deduplicates
    raw = inference_detector_by_patches(model, scene, patch_size=256, gap=64, nms_cfg=False, progress=False)
    assert len(raw.pred_instances) == 8 and out.merge_stats['suppressed'] == 6
    raw2 = inference_detector_by_patches(model, scene, 256, 64, nms_cfg=dict(iou_threshold=None), progress=False)
    assert len(raw2.pred_instances) == 8


def test_lazy_sources_and_multiscale_agree(model, scene, tmp_path):
    npy = tmp_path / 'scene.npy'
    np.save(npy, scene)
    mm = np.load(npy, mmap_mode='r')
    ref = inference_detector_by_patches(model, scene, 256, 64, progress=False).pred_instances
    for src in (str(npy), mm):
        got = inference_detector_by_patches(model, src, 256, 64, progress=False).pred_instances
        torch.testing.assert_close(got.bboxes, ref.bboxes)
    # rate 0.5: 512-px windows resized to 256 by the pipeline; boxes still in scene pixels
    ms = inference_detector_by_patches(model, scene, 256, 64, rates=(0.5,), progress=False).pred_instances
    ious = box_iou_rotated(ms.bboxes.double(), torch.tensor([_rbox(A), _rbox(B)], dtype=torch.float64))
    assert len(ms) == 2 and (ious.max(0).values > 0.9).all()


def test_reader_pads_and_never_copies_the_scene(scene):
    r = SceneReader(scene)
    t = r.read(300, 250, 556, 506)
    assert t.shape == (256, 256, 3) and t.dtype == np.uint8
    assert (t[60:, :] == (104, 116, 124)).all() and (t[:50, :100] == scene[250:300, 300:400]).all()
    assert r._arr is scene  # a view of the caller's array, no scene-sized copy
    with pytest.raises(ValueError, match='uint8'):
        SceneReader(scene.astype(np.float32))


def test_horizontal_boxes_come_back_as_xyxy(model, scene, monkeypatch):
    orig = type(model).predict

    def hbox_predict(self, inputs, samples):
        out = orig(self, inputs, samples)
        for s in out:
            s.pred_instances.bboxes = rbox2hbox(s.pred_instances.bboxes)
        return out

    monkeypatch.setattr(type(model), 'predict', hbox_predict)
    pred = inference_detector_by_patches(model, scene, 256, 64, progress=False).pred_instances
    assert pred.bboxes.shape == (2, 4)
    got = sorted(pred.bboxes.round().tolist())
    assert got == sorted([[float(v) for v in B], [float(v) for v in A]])


def test_empty_scene_gives_empty_shaped_result(model):
    pred = inference_detector_by_patches(model, draw_scene(300, 400, []), 256, 64, progress=False).pred_instances
    assert pred.bboxes.shape == (0, 5) and pred.scores.shape == (0,)


def test_real_rotated_ld_config_student(tmp_path):
    """The demo LD config builds as its student (no teacher checkpoint needed) and its rotated
    head's (K, 5) output goes through tiling + merge; random weights, score_thr 0 for boxes."""
    import os.path as osp

    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = osp.join(root, 'configs', 'demo', 'rotated-ld_r18-slim-rgfl-r18-slim-long_fpn_synthetic-dota_le90.py')
    torch.manual_seed(0)
    m = init_detector(cfg, None, device='cpu', cfg_options={'model.test_cfg.score_thr': 0.0,
                                                            'model.test_cfg.max_per_img': 10})
    assert type(m).__name__ == 'SingleStageDetector' and len(m.dataset_meta['classes']) == 15
    img = np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    out = inference_detector_by_patches(m, img, patch_size=256, gap=64, batch_size=4, progress=False)
    b = out.pred_instances.bboxes
    assert out.num_tiles == 4 and b.ndim == 2 and b.shape[1] == 5 and 0 < len(b) <= 40
    assert out.merge_stats['dets_in'] <= 40 and out.merge_stats['dets_out'] == len(b)


def _match_one_to_one(a, b, iou_thr=0.99, score_tol=1e-4):
    """Number of boxes of ``a`` matched greedily to distinct boxes of ``b`` (same label, IoU, score)."""
    iou = box_iou_rotated(a.bboxes.float(), b.bboxes.float())
    ok = (a.labels[:, None] == b.labels[None]) & (iou >= iou_thr) & \
        ((a.scores[:, None] - b.scores[None]).abs() <= score_tol)
    used, n = set(), 0
    for i in range(len(a.bboxes)):
        cand = [j for j in torch.nonzero(ok[i]).flatten().tolist() if j not in used]
        if cand:
            used.add(max(cand, key=lambda j: float(iou[i, j])))
            n += 1
    return n


def test_prefetch_and_channels_last_keep_the_detections(tmp_path):
    """Background tile preparation (the GPU default) and the NHWC model (the CPU default) against the sequential NCHW
    path on a conv model (demo student, random weights, score_thr 0): the same boxes, labels and
    scores (up to the convolutions' float reassociation), with a batch size that does not divide the
    tile count (4 tiles in batches of 3 against 1 by 1)."""
    import os.path as osp

    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = osp.join(root, 'configs', 'demo', 'rotated-gfl_r18-slim_fpn_synthetic-dota_le90.py')
    opts = {'model.test_cfg.score_thr': 0.0, 'model.test_cfg.max_per_img': 50}
    torch.manual_seed(0)
    plain = init_detector(cfg, None, device='cpu', cfg_options=opts)
    torch.manual_seed(0)
    fast = init_detector(cfg, None, device='cpu', cfg_options=opts)
    img = np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    ref = inference_detector_by_patches(plain, img, 256, 64, batch_size=1, prefetch=False, channels_last=False,
                                        progress=False)
    assert not plain.backbone.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    assert ref.num_tiles == 4 and len(ref.pred_instances) > 20
    out = inference_detector_by_patches(fast, img, 256, 64, batch_size=3, prefetch=True, progress=False)
    assert fast.backbone.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    a, b = ref.pred_instances, out.pred_instances
    assert len(a) == len(b) and _match_one_to_one(a, b) == len(a)
    assert out.merge_stats == ref.merge_stats
