"""A toy dataset and model registered in the rotated_ld scope, used to test the tools' plumbing
(train/resume/DDP/test) independently of the real detectors. Imported by configs through
``custom_imports`` with ``tests/test_tools`` on PYTHONPATH."""
import os
import time

import torch
from mmengine.dataset import BaseDataset
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement

from rotated_ld.registry import DATASETS, METRICS, MODELS


@DATASETS.register_module()
class ToyRegressionDataset(BaseDataset):
    """``n`` samples of x (8,) and y = x @ w: deterministic per index."""

    def __init__(self, n: int = 32, **kwargs):
        self.n = n
        super().__init__(lazy_init=False, serialize_data=False, **kwargs)

    def load_data_list(self):
        g = torch.Generator().manual_seed(123)
        x = torch.randn(self.n, 8, generator=g)
        y = x @ torch.arange(8, dtype=torch.float32)
        return [dict(x=x[i], y=y[i], idx=i) for i in range(self.n)]

    def prepare_data(self, idx):
        info = self.get_data_info(idx)
        return dict(inputs=info['x'], data_samples=BaseDataElement(metainfo=dict(y=float(info['y']))))


@MODELS.register_module()
class ToyRegressor(BaseModel):
    def __init__(self, init_cfg=None, data_preprocessor=None):
        super().__init__(init_cfg=init_cfg, data_preprocessor=data_preprocessor)
        self.fc = torch.nn.Linear(8, 1)
        self._marked = False

    def forward(self, inputs, data_samples=None, mode='tensor'):
        if not self._marked and os.environ.get('TOY_MARKER_DIR'):
            rank = os.environ.get('RANK', '0')
            open(os.path.join(os.environ['TOY_MARKER_DIR'], f'rank{rank}.ran'), 'w').close()
            self._marked = True
        if os.environ.get('TOY_SLEEP') and mode == 'loss':
            time.sleep(float(os.environ['TOY_SLEEP']))  # lets a test kill the run mid-training
        x = torch.stack(inputs) if isinstance(inputs, (list, tuple)) else inputs
        pred = self.fc(x).squeeze(-1)
        if mode == 'tensor':
            return pred
        y = torch.tensor([d.y for d in data_samples])
        if mode == 'loss':
            return dict(loss_mse=((pred - y) ** 2).mean())
        return [BaseDataElement(metainfo=dict(pred=float(p), y=float(t))) for p, t in zip(pred, y)]


from mmengine.evaluator import BaseMetric  # noqa: E402


@METRICS.register_module()
class ToyMAE(BaseMetric):
    def process(self, data_batch, data_samples):
        for d in data_samples:
            self.results.append(abs(d['pred'] - d['y']))

    def compute_metrics(self, results):
        return dict(mae=sum(results) / max(len(results), 1))
