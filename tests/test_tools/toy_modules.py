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


def _install_kill_during_save(name: str) -> None:
    """SIGKILL this process halfway through writing the checkpoint file ``name`` (a real kill
    inside the real atomic-save code path)."""
    import signal

    from rotated_ld.engine import atomic_save

    real_fdopen = os.fdopen

    class _DyingFile:
        def __init__(self, f):
            self.f = f

        def write(self, data):
            self.f.write(data[: len(data) // 2])
            self.f.flush()
            os.kill(os.getpid(), signal.SIGKILL)

        def __getattr__(self, k):
            return getattr(self.f, k)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.f.__exit__(*exc)

    def fdopen(fd, *args, **kwargs):
        f = real_fdopen(fd, *args, **kwargs)
        path = os.readlink(f'/proc/self/fd/{fd}')
        return _DyingFile(f) if os.path.basename(path).startswith(f'.{name}.') else f

    atomic_save.os.fdopen = fdopen


if os.environ.get('TOY_KILL_SAVING'):
    _install_kill_during_save(os.environ['TOY_KILL_SAVING'])


@MODELS.register_module()
class ToyRegressorWithAux(ToyRegressor):
    """Adds ``loss_aux`` that turns NaN at iteration ``TOY_NAN_AT`` (1-based, counted per process)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._calls = 0

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = super().forward(inputs, data_samples, mode)
        if mode == 'loss':
            self._calls += 1
            aux = self.fc.weight.sum() * 0.0
            if self._calls == int(os.environ.get('TOY_NAN_AT', '0')):
                aux = aux + float('nan')
            out['loss_aux'] = aux
        return out
