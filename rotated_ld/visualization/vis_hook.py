"""``DetVisualizationHook``: draw predictions of validation / test images (mmdet 3 behaviour).

* validation: every ``interval``-th batch, the first image of the batch goes to the vis
  backends (name ``val_img``);
* test (``tools/test.py --show-dir DIR``): every image is drawn (ground truth left when the
  test pipeline loads it, predictions right) into ``WORK_DIR/<timestamp>/DIR/<image name>``.

Images are read from ``img_path`` of each data sample (patch images for split DOTA). The drawing
uses :class:`DetLocalVisualizer`; when the runner's visualizer is a plain MMEngine one, the hook
draws with its own ``DetLocalVisualizer`` and hands the result to the runner's backends.
"""
from __future__ import annotations

import os
import os.path as osp
from typing import Optional, Sequence

import cv2
from mmengine.hooks import Hook
from mmengine.visualization import Visualizer

from rotated_ld.registry import HOOKS

from .local_visualizer import DetLocalVisualizer

__all__ = ['DetVisualizationHook']


@HOOKS.register_module()
class DetVisualizationHook(Hook):
    """Draw predicted (and ground-truth) boxes of val / test images.

    Args:
        draw: master switch (False = the hook does nothing, as mmdet).
        interval: validation batches between two drawn images.
        score_thr: predictions below this score are not drawn.
        show: display each image (needs a GUI backend).
        wait_time: seconds to show each image.
        test_out_dir: folder (relative to ``WORK_DIR/<timestamp>``, or absolute) for test images.
        backend_args: unused, accepted for mmdet config compatibility.
    """

    priority = 'NORMAL'

    def __init__(self, draw: bool = False, interval: int = 50, score_thr: float = 0.3, show: bool = False,
                 wait_time: float = 0., test_out_dir: Optional[str] = None, backend_args: Optional[dict] = None):
        self.draw = draw
        self.interval = max(1, int(interval))
        self.score_thr = score_thr
        self.show = show
        self.wait_time = wait_time
        self.test_out_dir = test_out_dir
        self._out_dir: Optional[str] = None
        self._test_index = 0
        self._vis: Optional[DetLocalVisualizer] = None

    def _visualizer(self, runner) -> DetLocalVisualizer:
        if self._vis is None:
            current = getattr(runner, 'visualizer', None) or Visualizer.get_current_instance()
            if isinstance(current, DetLocalVisualizer):
                self._vis = current
            else:  # a plain Visualizer: draw with ours, publish through the runner's backends
                self._vis = DetLocalVisualizer(name=f'det_vis_hook_{id(self)}')
            meta = None
            for loader in ('test_dataloader', 'val_dataloader'):
                try:
                    meta = getattr(runner, loader).dataset.metainfo
                    break
                except Exception:  # loader absent or not built
                    meta = None
            if meta and not self._vis.dataset_meta:
                self._vis.dataset_meta = dict(meta)
        return self._vis

    @staticmethod
    def _read_rgb(sample):
        path = sample.get('img_path') if hasattr(sample, 'get') else None
        if not path or not osp.isfile(path):
            return None, path
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        return (None if img is None else img[..., ::-1]), path

    def after_val_iter(self, runner, batch_idx: int, data_batch=None, outputs: Sequence = ()) -> None:
        if not self.draw or not outputs:
            return
        step = runner.iter + batch_idx
        if step % self.interval:
            return
        img, path = self._read_rgb(outputs[0])
        if img is None:
            return
        vis = self._visualizer(runner)
        vis.add_datasample(osp.basename(path) if self.show else 'val_img', img, data_sample=outputs[0],
                           show=self.show, wait_time=self.wait_time, pred_score_thr=self.score_thr,
                           step=step)
        if vis is not runner.visualizer and hasattr(runner.visualizer, 'add_image'):
            runner.visualizer.add_image('val_img', vis.get_image(), step)

    def before_test(self, runner) -> None:
        self._test_index = 0
        if self.draw and self.test_out_dir is not None:
            out = self.test_out_dir
            if not osp.isabs(out):
                out = osp.join(runner.work_dir, runner.timestamp, out)
            os.makedirs(out, exist_ok=True)
            self._out_dir = out

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs: Sequence = ()) -> None:
        if not self.draw:
            return
        vis = self._visualizer(runner)
        for sample in outputs:
            self._test_index += 1
            img, path = self._read_rgb(sample)
            if img is None:
                continue
            name = osp.basename(path)
            out_file = None
            if self._out_dir is not None:
                out_file = osp.join(self._out_dir, osp.splitext(name)[0] + '.png')
            vis.add_datasample(name if self.show else 'test_img', img, data_sample=sample, show=self.show,
                               wait_time=self.wait_time, pred_score_thr=self.score_thr, out_file=out_file,
                               step=self._test_index)
            if out_file is None and vis is not runner.visualizer and hasattr(runner.visualizer, 'add_image'):
                runner.visualizer.add_image('test_img', vis.get_image(), self._test_index)
