"""tools/benchmark.py: FPS with warm-up excluded, synthetic fallback, fuse_conv_bn exactness (CPU, s)."""
import json
import sys
from pathlib import Path

import torch
import torch.nn as nn

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tests' / 'test_apis'))
sys.path.insert(0, str(ROOT / 'tools'))

from toy_blob_detector import write_toy  # noqa: E402


def test_benchmark_fps(tmp_path, capsys):
    import benchmark

    cfg = write_toy(tmp_path)
    out = tmp_path / 'fps.json'
    assert benchmark.main([cfg, '--max-iter', '12', '--num-warmup', '2', '--log-interval', '5',
                           '--device', 'cpu', '--shape', '128', '160', '--fuse-conv-bn', '--out', str(out)]) == 0
    text = capsys.readouterr().out
    assert 'timing a synthetic image' in text and 'Done image [5  / 12]' in text and 'Overall fps' in text
    res = json.loads(out.read_text())
    assert res['timed_iters'] == 10 and res['fps'] > 0 and res['fuse_conv_bn']


def test_benchmark_counts_only_after_warmup(monkeypatch):
    import benchmark

    calls = []

    class Slow(nn.Module):
        def test_step(self, data):
            calls.append(1)

    t = iter([0.0, 10.0] + [v for i in range(4) for v in (100.0 + i, 100.5 + i)])  # warm-up 10 s, then 0.5 s
    monkeypatch.setattr(benchmark.time, 'perf_counter', lambda: next(t))
    res = benchmark.benchmark(Slow(), iter([{}] * 5), max_iter=5, log_interval=100, num_warmup=1, device='cpu')
    assert len(calls) == 5 and abs(res['fps'] - 2.0) < 1e-9


def test_fuse_conv_bn_is_exact():
    from rotated_ld.apis import fuse_conv_bn

    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 4, 1, bias=False),
                      nn.BatchNorm2d(4)).eval()
    for bn in (m[1], m[4]):
        bn.running_mean.normal_()
        bn.running_var.uniform_(0.5, 2)
        bn.weight.data.normal_()
    x = torch.randn(2, 3, 9, 9)
    with torch.no_grad():
        ref = m(x)
        fuse_conv_bn(m)
        torch.testing.assert_close(m(x), ref, rtol=1e-4, atol=1e-5)
    assert not any(isinstance(k, nn.BatchNorm2d) for k in m.modules())
