"""tools/analysis_tools/get_flops.py and tools/misc/print_config.py.

get_flops is checked against independent counts: parameters = the sum of ``numel`` of the built
model's parameters; FLOPs (fvcore convention, multiply-add = 1) = half of what PyTorch's own
``FlopCounterMode`` counts (it counts a multiply-add as 2) within 1 %, and ~4x for a doubled side.
"""
import json
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools' / 'analysis_tools'))
sys.path.insert(0, str(ROOT / 'tools' / 'misc'))

RGFL = str(ROOT / 'configs/demo/rotated-gfl_r18-slim_fpn_synthetic-dota_le90.py')
LD = str(ROOT / 'configs/rotated_ld_retinanet/rotated_ld_r18-slim-rretinanet-r34-slim_fpn_synthetic_dota_oc.py')


def test_complexity_matches_independent_counts():
    import get_flops
    from torch.utils.flop_counter import FlopCounterMode

    from rotated_ld.apis import init_detector
    from rotated_ld.deployment.export import DenseExportWrapper

    model = init_detector(RGFL, None, device='cpu')
    r = get_flops.complexity(model, (128, 160))
    assert r['params'] == sum(p.numel() for p in model.parameters())
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        DenseExportWrapper(model.eval())(torch.zeros(1, 3, 128, 160))
    assert r['flops'] == pytest.approx(fc.get_total_flops() / 2, rel=0.01)
    big = get_flops.complexity(model, (256, 320))
    assert big['params'] == r['params'] and big['flops'] / r['flops'] == pytest.approx(4.0, rel=0.05)


def test_cli_teacher_row_and_errors(tmp_path, capsys):
    import get_flops

    out = tmp_path / 'flops.json'
    assert get_flops.main([LD, '--shape', '128', '--teacher', '--out', str(out)]) == 0
    text = capsys.readouterr().out
    res = json.loads(out.read_text())
    assert res['shape'] == [128, 128] and res['teacher']['params'] > res['model']['params'] > 0
    assert res['teacher']['flops'] > res['model']['flops'] > 0
    assert 'student / teacher: params' in text and 'teacher  params' in text
    assert get_flops.main([RGFL, '--teacher']) == 2
    assert 'no model.teacher_config' in capsys.readouterr().err
    assert get_flops.main([str(tmp_path / 'nope.py')]) == 2


def test_print_config_resolves_and_saves(tmp_path, capsys):
    import print_config
    from mmengine.config import Config

    save = tmp_path / 'full.py'
    assert print_config.main([RGFL, '--cfg-options', 'model.bbox_head.angle_coder.angle_bins=72',
                              '--save-path', str(save)]) == 0
    text = capsys.readouterr().out
    assert 'angle_bins=72' in text and 'train_dataloader' in text  # _base_ entries are resolved
    cfg = Config.fromfile(str(save))
    assert cfg.model.bbox_head.angle_coder.angle_bins == 72 and '_base_' not in cfg
    assert print_config.main([str(tmp_path / 'nope.py')]) == 2
