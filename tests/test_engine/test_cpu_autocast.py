"""``--amp`` on CPU (CPUAutocastOptimWrapper, bf16 autocast): finite losses, close to fp32 on step 1.

The reference is the same model, weights and batch run in plain fp32 (``OptimWrapper``).
"""
from __future__ import annotations

import copy
import math

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

CONFIG = 'configs/demo/rotated-gfl_r18-slim_fpn_synthetic-dota_le90.py'
# bf16 keeps 8 significant bits: every autocast op rounds its inputs to relative 2^-9; a slim R-18 +
# FPN + head forward is ~30 such ops deep, and accumulating those roundings (~sqrt(30) * 2^-8 ≈ 2 %
# with the loss's own reductions kept in fp32) gives the budget below; a real dtype bug (fp16
# overflow, a loss computed in bf16 end to end, a wrong cast of the boxes) moves the loss far more.
BF16_REL_TOL = 0.05


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _batch(n=2, size=128, num_gts=4):
    from rotated_ld.structures import DetDataSample

    g = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for i in range(n):
        inputs.append(torch.randint(0, 255, (3, size, size), generator=g, dtype=torch.uint8))
        s = DetDataSample(metainfo=dict(img_id=i, img_shape=(size, size), ori_shape=(size, size),
                                        scale_factor=(1.0, 1.0)))
        wh = torch.rand(num_gts, 2, generator=g) * 40 + 12
        ctr = torch.rand(num_gts, 2, generator=g) * (size - wh) + wh / 2
        ang = (torch.rand(num_gts, 1, generator=g) - 0.5) * 3.0  # le90: [-pi/2, pi/2)
        gt = InstanceData(bboxes=torch.cat([ctr, wh, ang], 1), labels=torch.randint(0, 15, (num_gts,), generator=g))
        s.gt_instances = gt
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def _model():
    import rotated_ld.models  # noqa: F401
    from rotated_ld.registry import MODELS

    init_default_scope('rotated_ld')
    cfg = Config.fromfile(CONFIG)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.train()
    return model


# slow: bf16 convolutions run ~17x slower than fp32 on CPUs without avx512_bf16 (this project's)
@pytest.mark.slow
def test_bf16_autocast_steps_are_finite_and_close_to_fp32():
    from rotated_ld.engine import CPUAutocastOptimWrapper

    fp32 = _model()
    bf16 = copy.deepcopy(fp32)
    batch = _batch()
    ref = fp32.train_step(copy.deepcopy(batch), OptimWrapper(torch.optim.SGD(fp32.parameters(), lr=1e-3)))
    wrapper = CPUAutocastOptimWrapper(optimizer=torch.optim.SGD(bf16.parameters(), lr=1e-3), dtype='bfloat16')
    steps = [bf16.train_step(copy.deepcopy(batch), wrapper) for _ in range(3)]
    for log in steps:
        assert all(math.isfinite(float(v.detach())) for v in log.values()), log
    # autocast really ran in bf16: the loss differs from fp32 (identical would mean no autocast)
    assert float(steps[0]['loss']) != float(ref['loss'])
    for key in ref:
        if key.startswith('loss'):
            assert math.isclose(float(steps[0][key]), float(ref[key]), rel_tol=BF16_REL_TOL), \
                (key, float(steps[0][key]), float(ref[key]))
