"""tools/train.py, tools/test.py and tools/dist_train.sh on a toy model (plumbing, not accuracy).

Each test runs the tools as a user does (subprocess); CPU, ~30 s for the module.
"""
import os
import os.path as osp
import subprocess
import sys
import time

import pytest
import torch

from tests.conftest import free_port

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
CONFIG = osp.join(osp.dirname(__file__), 'toy_config.py')


def _env(**extra):
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join([osp.dirname(__file__), ROOT, env.get('PYTHONPATH', '')])
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _run(args, **env):
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=_env(**env), capture_output=True,
                          text=True, timeout=300)


def _params(ckpt):
    from rotated_ld.utils import safe_torch_load

    return safe_torch_load(ckpt)['state_dict']


def test_resume_after_kill_continues_like_an_uninterrupted_run(tmp_path):
    full, cut = tmp_path / 'full', tmp_path / 'cut'
    r = _run(['tools/train.py', CONFIG, '--work-dir', str(full)])
    assert r.returncode == 0, r.stderr[-3000:]
    # the same run, SIGKILLed once epoch 2's checkpoint is complete (last_checkpoint names it)
    proc = subprocess.Popen([sys.executable, 'tools/train.py', CONFIG, '--work-dir', str(cut)], cwd=ROOT,
                            env=_env(TOY_SLEEP=0.15), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        last = cut / 'last_checkpoint'
        if last.exists() and last.read_text().strip().endswith('epoch_2.pth'):
            break
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    assert not (cut / 'epoch_3.pth').exists(), 'the run was not killed during epoch 3'
    r = _run(['tools/train.py', CONFIG, '--work-dir', str(cut), '--resume'])
    assert r.returncode == 0, r.stderr[-3000:]
    log = r.stdout + r.stderr
    assert 'resumed epoch: 2' in log.replace(',', ''), log[-3000:]
    assert 'Epoch(train) [3]' in log and 'Epoch(train) [1]' not in log
    a, b = _params(full / 'epoch_4.pth'), _params(cut / 'epoch_4.pth')
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=1e-6)
    # optimizer state travelled too (momentum buffers equal)
    from rotated_ld.utils import safe_torch_load

    oa = safe_torch_load(str(full / 'epoch_4.pth'))['optimizer']['state']
    ob = safe_torch_load(str(cut / 'epoch_4.pth'))['optimizer']['state']
    for k in oa:
        torch.testing.assert_close(oa[k]['momentum_buffer'], ob[k]['momentum_buffer'], rtol=0, atol=1e-6)


def test_resume_from_explicit_checkpoint_and_test_tool(tmp_path):
    r = _run(['tools/train.py', CONFIG, '--work-dir', str(tmp_path), '--cfg-options', 'train_cfg.max_epochs=1'])
    assert r.returncode == 0, r.stderr[-3000:]
    r = _run(['tools/test.py', CONFIG, str(tmp_path / 'epoch_1.pth'), '--work-dir', str(tmp_path),
              '--out', str(tmp_path / 'res.pkl')])
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'mae' in r.stdout + r.stderr
    assert (tmp_path / 'res.pkl').exists()


def test_typo_in_type_names_registry_and_suggests(tmp_path):
    r = _run(['tools/train.py', CONFIG, '--work-dir', str(tmp_path), '--cfg-options', 'model.type=ToyRegresor'])
    assert r.returncode == 2
    assert "'ToyRegresor'" in r.stderr and "'model' registry" in r.stderr and "'ToyRegressor'" in r.stderr
    assert 'Traceback' not in r.stderr


def test_amp_on_cpu_uses_bf16_autocast_and_lr_is_reported(tmp_path):
    r = _run(['tools/train.py', CONFIG, '--work-dir', str(tmp_path), '--amp', '--auto-scale-lr',
              '--cfg-options', 'train_cfg.max_epochs=1'])
    assert r.returncode == 0, r.stderr[-3000:]
    log = r.stdout + r.stderr
    if not torch.cuda.is_available():
        assert 'CPUAutocastOptimWrapper' in log
    # lr 0.01 x (4 per process x 1 process) / base 8 = 0.005
    assert 'auto-scale-lr: lr 0.01' in log and '= 0.005' in log


@pytest.mark.skipif(sys.platform != 'linux', reason='bash launcher')
def test_dist_train_sh_runs_two_processes(tmp_path):
    markers = tmp_path / 'markers'
    markers.mkdir()
    env = _env(TOY_MARKER_DIR=markers, PYTHON=sys.executable, PORT=free_port())
    r = subprocess.run(['bash', 'tools/dist_train.sh', CONFIG, '2', '--work-dir', str(tmp_path / 'wd'),
                        '--cfg-options', 'train_cfg.max_epochs=2'],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert sorted(p.name for p in markers.iterdir()) == ['rank0.ran', 'rank1.ran']
    assert (tmp_path / 'wd' / 'epoch_2.pth').exists()
    # the sampler shards the data: 32 samples / (4 per batch x 2 ranks) = 4 iterations per epoch
    assert 'Epoch(train) [1][4/4]' in (r.stdout + r.stderr).replace('  ', ' ')
