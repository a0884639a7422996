"""DetLocalVisualizer (hbox / rbox / polygon drawing, scaling line width) and DetVisualizationHook
(test images drawn into test_out_dir, val images to the backends). CPU, < 2 s."""
import math
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData
from mmengine.visualization import Visualizer

from rotated_ld.registry import HOOKS, VISUALIZERS
from rotated_ld.structures import DetDataSample
from rotated_ld.visualization import DetLocalVisualizer, DetVisualizationHook, auto_line_width, rboxes_to_polys


def _vis():
    return DetLocalVisualizer(name=f'v{np.random.randint(1 << 30)}')


def test_registered_in_scope():
    assert VISUALIZERS.get('DetLocalVisualizer') is DetLocalVisualizer
    assert HOOKS.get('DetVisualizationHook') is DetVisualizationHook


def test_rbox_corners_match_geometry_convention():
    from rotated_ld.structures.bbox import rbox2poly

    rb = np.array([[50, 40, 30, 10, 0.3], [10, 20, 8, 4, -1.2]])
    np.testing.assert_allclose(rboxes_to_polys(rb), rbox2poly(torch.tensor(rb)).numpy(), atol=1e-9)
    # positive angle turns +x toward +y (clockwise on screen): the first corner goes down-right
    p = rboxes_to_polys(np.array([[0, 0, 2, 0, math.pi / 2]]))[0]
    np.testing.assert_allclose(p[:2], [0, 1], atol=1e-9)


@pytest.mark.parametrize('dim', [4, 5, 8])
def test_draw_instances_each_box_type(dim):
    img = np.zeros((120, 160, 3), np.uint8)
    boxes = {4: [[20, 30, 80, 70]], 5: [[50, 50, 60, 30, 0.4]], 8: [[20, 20, 90, 30, 80, 90, 15, 70]]}[dim]
    inst = InstanceData(bboxes=torch.tensor(boxes, dtype=torch.float32), labels=torch.tensor([1]),
                        scores=torch.tensor([0.9]))
    out = _vis().draw_instances(img, inst, classes=('plane', 'ship'), palette=[(255, 0, 0), (0, 255, 0)])
    assert out.shape == img.shape and img.max() == 0  # input untouched
    assert (out[..., 1] > 200).sum() > 50  # ship colour drawn


def test_score_threshold_and_empty():
    img = np.zeros((64, 64, 3), np.uint8)
    inst = InstanceData(bboxes=torch.tensor([[10., 10, 30, 30]]), labels=torch.tensor([0]), scores=torch.tensor([0.1]))
    assert _vis().draw_instances(img, inst, ('a',), score_thr=0.3).max() == 0
    assert _vis().draw_instances(img, InstanceData(bboxes=torch.zeros(0, 5), labels=torch.zeros(0)), ('a',)).max() == 0


def test_line_width_scales_with_image():
    assert auto_line_width(1024, 1024) == 2 and auto_line_width(10000, 12000) == 20
    vis = _vis()
    big = vis.draw_instances(np.zeros((3000, 3000, 3), np.uint8),
                             dict(bboxes=np.array([[1000, 1000, 2000, 2000]]), labels=np.array([0])), ('a',))
    col = big[1500, 990:1010, 0]
    assert (col > 0).sum() >= 4  # a 5 px line on a 3000 px image


def _sample(img_path, with_gt=True):
    s = DetDataSample(metainfo=dict(img_path=img_path, ori_shape=(100, 120)))
    s.pred_instances = InstanceData(bboxes=torch.tensor([[60., 50, 40, 20, 0.2]]), labels=torch.tensor([0]),
                                    scores=torch.tensor([0.8]))
    if with_gt:
        s.gt_instances = InstanceData(bboxes=torch.tensor([[60., 50, 40, 20, 0.2]]), labels=torch.tensor([0]))
    return s


def test_hook_draws_test_images_and_val_to_backend(tmp_path):
    img_path = str(tmp_path / 'P0001__1024__0___0.png')
    cv2.imwrite(img_path, np.full((100, 120, 3), 50, np.uint8))
    plain = Visualizer(name=f'plain{id(tmp_path)}')
    calls = []
    plain.add_image = lambda name, image, step=0: calls.append((name, image.shape, step))
    runner = SimpleNamespace(work_dir=str(tmp_path), timestamp='20260101_000000', visualizer=plain, iter=0,
                             test_dataloader=SimpleNamespace(dataset=SimpleNamespace(metainfo=dict(classes=('plane',)))))
    hook = DetVisualizationHook(draw=True, test_out_dir='vis', interval=1)
    hook.before_test(runner)
    hook.after_test_iter(runner, 0, None, [_sample(img_path)])
    out = cv2.imread(str(tmp_path / '20260101_000000' / 'vis' / 'P0001__1024__0___0.png'))
    assert out is not None and out.shape == (100, 240, 3)  # gt | pred side by side
    assert out[:, :120].max() > 50 and out[:, 120:].max() > 50
    hook.after_val_iter(runner, 0, None, [_sample(img_path, with_gt=False)])
    assert calls == [('val_img', (100, 120, 3), 0)]
    DetVisualizationHook(draw=False).after_test_iter(runner, 0, None, [_sample(img_path)])  # no-op


def test_test_py_show_dir_end_to_end(tmp_path):
    """tools/test.py --show-dir with the toy detector on a one-image DOTA folder: the hook
    writes the drawn picture under WORK_DIR/<timestamp>/vis/."""
    import glob
    import importlib.util
    import os.path as osp
    import sys

    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    # the toy detector lives with the apis tests; its config imports it by its module name
    sys.path.insert(0, osp.join(root, 'tests', 'test_apis'))
    from toy_blob_detector import draw_scene, toy_config_text

    # tools/test.py by path ('test' is also a stdlib package name)
    spec = importlib.util.spec_from_file_location('rld_tools_test', osp.join(root, 'tools', 'test.py'))
    test_tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(test_tool)

    (tmp_path / 'images').mkdir()
    (tmp_path / 'annfiles').mkdir()
    cv2.imwrite(str(tmp_path / 'images' / 'P0001__256__0___0.png'), draw_scene(256, 256, [(40, 50, 120, 90)]))
    (tmp_path / 'annfiles' / 'P0001__256__0___0.txt').write_text('40 50 120 50 120 90 40 90 plane 0\n')
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(toy_config_text() + f"""
_base_ = ['{root}/configs/_base_/default_runtime.py']
test_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False), collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='DOTADataset', data_root='{tmp_path}/', ann_file='annfiles/',
                 data_prefix=dict(img_path='images/'), test_mode=True, pipeline=test_pipeline))
test_evaluator = dict(type='ToyCountMetric')
test_cfg = dict(type='TestLoop')
""")
    from rotated_ld.apis import init_detector

    model = init_detector(str(cfg), None, device='cpu')
    ckpt = tmp_path / 'toy.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    assert test_tool.main([str(cfg), str(ckpt), '--work-dir', str(tmp_path / 'wd'), '--show-dir', 'vis']) == 0
    (png,) = glob.glob(str(tmp_path / 'wd' / '*' / 'vis' / 'P0001__256__0___0.png'))
    img = cv2.imread(png)
    # the test pipeline loads no annotations: one panel, the prediction drawn in colour
    assert img is not None and img.shape == (256, 256, 3)
    assert (np.ptp(img.astype(int), axis=2) > 50).sum() > 100


def test_bgr_drawing_is_the_channel_flip_of_rgb():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (90, 130, 3), dtype=np.uint8)
    inst = dict(bboxes=np.array([[60, 40, 50, 20, 0.3], [30, 30, 20, 10, -0.5]]), labels=np.array([0, 1]),
                scores=np.array([0.9, 0.6]))
    rgb = _vis().draw_instances(img, inst, ('plane', 'ship'), palette=[(250, 200, 0), (0, 40, 220)])
    bgr = _vis().draw_instances(img[..., ::-1], inst, ('plane', 'ship'), palette=[(250, 200, 0), (0, 40, 220)],
                                channel_order='bgr')
    np.testing.assert_array_equal(bgr[..., ::-1], rgb)
