"""No lost work under faults: atomic checkpoints, resume from the newest valid one, NaN stops.

Runs tools/train.py as a user does, on the toy model of tests/test_tools (CPU, ~40 s).
"""
import os
import os.path as osp
import stat
import subprocess
import sys

import pytest
import torch

from rotated_ld.engine import checkpoint_is_valid, find_latest_valid_checkpoint
from rotated_ld.engine.atomic_save import atomic_write_bytes

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
TOOLS_TESTS = osp.join(ROOT, 'tests', 'test_tools')
CONFIG = osp.join(TOOLS_TESTS, 'toy_config.py')


def _run(args, **env):
    e = dict(os.environ)
    e['PYTHONPATH'] = os.pathsep.join([TOOLS_TESTS, ROOT, e.get('PYTHONPATH', '')])
    e.update({k: str(v) for k, v in env.items()})
    return subprocess.run([sys.executable, 'tools/train.py', *args], cwd=ROOT, env=e, capture_output=True,
                          text=True, timeout=300)


def _state(path):
    from rotated_ld.utils import safe_torch_load

    return safe_torch_load(str(path))['state_dict']


def test_sigkill_during_checkpoint_write_then_resume(tmp_path):
    full, cut = tmp_path / 'full', tmp_path / 'cut'
    assert _run([CONFIG, '--work-dir', str(full)]).returncode == 0
    r = _run([CONFIG, '--work-dir', str(cut)], TOY_KILL_SAVING='epoch_3.pth')
    assert r.returncode == -9, (r.returncode, r.stderr[-2000:])  # really killed mid-write
    assert not (cut / 'epoch_3.pth').exists(), 'a half-written checkpoint became visible'
    assert (cut / 'last_checkpoint').read_text().strip().endswith('epoch_2.pth')
    stale = list(cut.glob('.epoch_3.pth.*.tmp'))
    assert len(stale) == 1  # the killed save's partial temporary file
    r = _run([CONFIG, '--work-dir', str(cut), '--resume'])
    assert r.returncode == 0, r.stderr[-3000:]
    log = r.stdout + r.stderr
    assert 'resumed epoch: 2' in log.replace(',', '')
    assert f'removed {stale[0]}' in log and not list(cut.glob('.*.tmp'))  # cleaned at the next start, logged
    a, b = _state(full / 'epoch_4.pth'), _state(cut / 'epoch_4.pth')
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=1e-6)


def test_resume_skips_corrupt_checkpoint_by_name(tmp_path):
    assert _run([CONFIG, '--work-dir', str(tmp_path), '--cfg-options', 'train_cfg.max_epochs=2']).returncode == 0
    good = tmp_path / 'epoch_2.pth'
    data = good.read_bytes()
    bad = tmp_path / 'epoch_3.pth'
    bad.write_bytes(data[: len(data) // 3])  # e.g. written by a non-atomic tool, then killed
    (tmp_path / 'last_checkpoint').write_text(str(bad))
    assert checkpoint_is_valid(str(good))[0] and not checkpoint_is_valid(str(bad))[0]
    assert find_latest_valid_checkpoint(str(tmp_path)) == str(good)
    r = _run([CONFIG, '--work-dir', str(tmp_path), '--resume', '--cfg-options', 'train_cfg.max_epochs=3'])
    assert r.returncode == 0, r.stderr[-3000:]
    log = r.stdout + r.stderr
    assert f'skipping corrupt checkpoint {bad}' in log and f'resuming from {good}' in log


def test_nan_in_one_loss_term_stops_naming_it(tmp_path):
    r = _run([CONFIG, '--work-dir', str(tmp_path), '--cfg-options', 'model.type=ToyRegressorWithAux'],
             TOY_NAN_AT=11)
    assert r.returncode == 3, r.stderr[-3000:]
    last = r.stderr.strip().splitlines()[-1]
    assert 'loss_aux = nan' in last and 'iteration 11 (epoch 2)' in last and 'epoch_1.pth' in last
    # the failing step was not applied: epoch 1's weights are finite and no later checkpoint exists
    assert not (tmp_path / 'epoch_2.pth').exists()
    assert all(torch.isfinite(v).all() for v in _state(tmp_path / 'epoch_1.pth').values())


def test_nan_skip_mode_keeps_training(tmp_path):
    r = _run([CONFIG, '--work-dir', str(tmp_path), '--cfg-options', 'model.type=ToyRegressorWithAux',
              'custom_hooks.0.action=skip', 'train_cfg.max_epochs=2'],
             TOY_NAN_AT=3)
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'step skipped (1 so far)' in r.stdout + r.stderr
    assert all(torch.isfinite(v).all() for v in _state(tmp_path / 'epoch_2.pth').values())


@pytest.mark.parametrize('umask, mode', [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_atomic_write_respects_umask(umask, mode, tmp_path):
    """Checkpoints get the mode torch.save / mmdet would give them (mkstemp alone makes 0600)."""
    old = os.umask(umask)
    try:
        atomic_write_bytes(b'x', tmp_path / 'c.pth')
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / 'c.pth').st_mode) == mode


def test_remove_stale_temp_files_only_touches_temp_pattern(tmp_path):
    from rotated_ld.engine import remove_stale_temp_files

    for name in ('.iter_8.pth.k2j4h1x0.tmp', '.last_checkpoint.ab12cd34.tmp', 'iter_8.pth', 'notes.tmp',
                 '.hidden.pth'):
        (tmp_path / name).write_bytes(b'0' * 10)
    said = []
    removed = remove_stale_temp_files(str(tmp_path), said.append)
    assert sorted(os.path.basename(p) for p in removed) == ['.iter_8.pth.k2j4h1x0.tmp', '.last_checkpoint.ab12cd34.tmp']
    assert sorted(f.name for f in tmp_path.iterdir()) == ['.hidden.pth', 'iter_8.pth', 'notes.tmp']
    assert len(said) == 2 and '(10 bytes)' in said[0]


def test_atomic_write_replaces_whole_file(tmp_path):
    p = tmp_path / 'x.bin'
    atomic_write_bytes(b'old', p)
    atomic_write_bytes(b'new contents', p)
    assert p.read_bytes() == b'new contents'
    assert [f.name for f in tmp_path.iterdir()] == ['x.bin']  # no temporary files left behind
