"""Scale-out launchers on one CPU machine: 2 "nodes" x 1 process through dist_train.sh's
NNODES/NODE_RANK/MASTER_ADDR, and slurm_train.sh through a stand-in ``srun`` (CPU, ~40 s)."""
import os
import os.path as osp
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import free_port

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
HERE = osp.dirname(__file__)
CONFIG = osp.join(HERE, 'toy_config.py')

pytestmark = pytest.mark.skipif(sys.platform != 'linux', reason='bash launchers')


def _env(**extra):
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join([HERE, ROOT, env.get('PYTHONPATH', '')])
    env['PYTHON'] = sys.executable
    env.update({k: str(v) for k, v in extra.items()})
    return env


def test_two_nodes_one_process_each(tmp_path):
    markers = tmp_path / 'markers'
    markers.mkdir()
    port = free_port()  # both 'nodes' meet there
    procs = [subprocess.Popen(['bash', 'tools/dist_train.sh', CONFIG, '1', '--work-dir', str(tmp_path / 'wd'),
                               '--cfg-options', 'train_cfg.max_epochs=1'], cwd=ROOT,
                              env=_env(NNODES=2, NODE_RANK=r, MASTER_ADDR='127.0.0.1', PORT=port,
                                       TOY_MARKER_DIR=markers),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for r in (0, 1)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs[0][-2000:] + outs[1][-2000:]
    assert sorted(p.name for p in markers.iterdir()) == ['rank0.ran', 'rank1.ran']
    assert (tmp_path / 'wd' / 'epoch_1.pth').exists()
    # world size 2: 32 samples / (4 x 2) = 4 iterations per epoch, and the lr rule is printed
    log = outs[0].replace('  ', ' ')
    assert 'Epoch(train) [1][4/4]' in log and 'x 2 processes' in log


FAKE_SRUN = textwrap.dedent('''\
    #!{python}
    """Stand-in for srun: starts --ntasks copies of the command with SLURM_* variables."""
    import os, subprocess, sys
    args = sys.argv[1:]
    ntasks, i = 1, 0
    while i < len(args) and args[i].startswith('-'):
        if args[i].startswith('--ntasks='):
            ntasks = int(args[i].split('=')[1])
        i += 2 if args[i] in ('-p', '-n') else 1
    cmd = args[i:]
    procs = []
    for rank in range(ntasks):
        env = dict(os.environ, SLURM_PROCID=str(rank), SLURM_NTASKS=str(ntasks), SLURM_LOCALID=str(rank),
                   SLURM_NODELIST='127.0.0.1')
        procs.append(subprocess.Popen(cmd, env=env))
    sys.exit(max(p.wait() for p in procs))
    ''')


def test_slurm_train_sh_with_stand_in_srun(tmp_path):
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    srun = bindir / 'srun'
    srun.write_text(FAKE_SRUN.format(python=sys.executable))
    srun.chmod(0o755)
    markers = tmp_path / 'markers'
    markers.mkdir()
    env = _env(PATH=f'{bindir}:{os.environ["PATH"]}', TOY_MARKER_DIR=markers, GRES='',
               MASTER_PORT=free_port())
    r = subprocess.run(['bash', 'tools/slurm_train.sh', 'cpu', 'toy', CONFIG, str(tmp_path / 'wd'), '2',
                        '--cfg-options', 'train_cfg.max_epochs=1'], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert sorted(p.name for p in markers.iterdir()) == ['rank0.ran', 'rank1.ran']
    assert (tmp_path / 'wd' / 'epoch_1.pth').exists()
