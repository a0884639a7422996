"""init_detector / inference_detector: loading rules, clear errors, paths vs arrays, batching
(CPU, a few seconds; the toy detector of toy_blob_detector.py, plus one real slim GFL build)."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from toy_blob_detector import draw_scene, write_toy

from rotated_ld.apis import CheckpointMismatchError, inference_detector, init_detector, student_model_cfg
from tests.detection_match import assert_same_detections

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture
def toy(tmp_path):
    cfg = write_toy(tmp_path)
    model = init_detector(cfg, None, device='cpu')
    ckpt = str(tmp_path / 'toy.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict(dataset_meta=dict(classes=('blob',)))), ckpt)
    return cfg, ckpt


def _boxes(sample):
    return sample.pred_instances.bboxes.numpy()


def test_paths_arrays_and_batches_agree(toy, tmp_path):
    cfg, ckpt = toy
    model = init_detector(cfg, ckpt, device='cpu')
    assert model.dataset_meta['classes'] == ('blob',) and not model.training
    imgs = [draw_scene(200, 240, [(20, 30, 80, 60)]), draw_scene(180, 200, [(100, 100, 150, 170)])]
    paths = []
    for i, im in enumerate(imgs):
        paths.append(str(tmp_path / f'im{i}.png'))
        cv2.imwrite(paths[-1], im)
    single = inference_detector(model, imgs[0])
    assert single.pred_instances.bboxes.shape == (1, 5)
    np.testing.assert_allclose(_boxes(single)[0, :2], [50, 45], atol=1.0)  # centre in original pixels
    batched = inference_detector(model, paths, batch_size=2)
    one_by_one = [inference_detector(model, p) for p in paths]
    from_arrays = inference_detector(model, imgs, batch_size=2)
    for a, b, c in zip(batched, one_by_one, from_arrays):
        np.testing.assert_allclose(_boxes(a), _boxes(b), atol=1e-4)
        np.testing.assert_allclose(_boxes(a), _boxes(c), atol=1e-4)
    assert batched[1].img_id == 'im1' and batched[1].ori_shape == (180, 200)


def test_missing_files_are_named(toy, tmp_path):
    cfg, ckpt = toy
    with pytest.raises(FileNotFoundError, match='checkpoint file not found: .*nope.pth'):
        init_detector(cfg, str(tmp_path / 'nope.pth'), device='cpu')
    with pytest.raises(FileNotFoundError, match='config file not found'):
        init_detector(str(tmp_path / 'nope.py'), ckpt, device='cpu')
    model = init_detector(cfg, ckpt, device='cpu')
    with pytest.raises(FileNotFoundError, match='image not found'):
        inference_detector(model, str(tmp_path / 'missing.png'))


def test_wrong_architecture_is_one_clear_line(toy, tmp_path):
    cfg, ckpt = toy
    wide = write_toy(tmp_path, 'wide.py', feat_channels=8)
    with pytest.raises(CheckpointMismatchError) as e:
        init_detector(wide, ckpt, device='cpu')
    msg = str(e.value)
    assert '\n' not in msg
    assert '6 with another shape (checkpoint vs model): conv.weight (4, 3, 3, 3) vs (8, 3, 3, 3); ' in msg
    other = write_toy(tmp_path, 'other.py', model_type='ToyOtherNet')
    with pytest.raises(CheckpointMismatchError, match='another architecture'):
        init_detector(other, ckpt, device='cpu')


def test_kd_config_builds_the_student():
    cfg = dict(type='KDSingleStageDetector', teacher_config='t.py', teacher_ckpt='t.pth', eval_teacher=True,
               backbone=dict(type='X'))
    out = student_model_cfg(cfg)
    assert out == dict(type='SingleStageDetector', backbone=dict(type='X')) and 'teacher_config' in cfg


def test_real_slim_gfl_runs_on_arrays():
    cfg = osp.join(ROOT, 'configs', 'gfl', 'gfl_r18-slim_fpn_synthetic_coco.py')
    torch.manual_seed(0)
    model = init_detector(cfg, None, device='cpu')
    img = np.random.default_rng(0).integers(0, 255, (97, 131, 3), dtype=np.uint8)
    a, b = inference_detector(model, [img, img], batch_size=2)
    assert a.pred_instances.bboxes.shape[-1] == 4
    # one image twice in a batch: the same detection set (order-free: a conv kernel may round the two
    # batch items differently, which can swap near-equal scores)
    assert_same_detections(a.pred_instances, b.pred_instances, rotated=False, score_tol=1e-5, box_atol=1e-3)
    assert len(model.dataset_meta['classes']) == 8
