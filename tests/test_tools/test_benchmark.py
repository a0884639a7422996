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


def test_benchmark_reads_the_test_set(tmp_path, capsys):
    import benchmark
    import cv2
    from toy_blob_detector import draw_scene, toy_config_text

    (tmp_path / 'images').mkdir()
    (tmp_path / 'annfiles').mkdir()
    cv2.imwrite(str(tmp_path / 'images' / 'P0001__256__0___0.png'), draw_scene(256, 256, [(40, 50, 120, 90)]))
    (tmp_path / 'annfiles' / 'P0001__256__0___0.txt').write_text('40 50 120 50 120 90 40 90 plane 0\n')
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(toy_config_text() + f"""
test_dataloader = dict(batch_size=1, num_workers=0, dataset=dict(type='DOTADataset', data_root='{tmp_path}/',
    ann_file='annfiles/', data_prefix=dict(img_path='images/'), test_mode=True, pipeline=test_pipeline))
""")
    assert benchmark.main([str(cfg), '--max-iter', '4', '--num-warmup', '1', '--log-interval', '2',
                           '--device', 'cpu']) == 0
    text = capsys.readouterr().out
    assert 'with a test set (1 images)' in text and 'Overall fps' in text
