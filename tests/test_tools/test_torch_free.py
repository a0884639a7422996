"""The data tools and every tool's ``--help`` must not import torch (5-7 s on a small CPU).

Each check runs in a fresh interpreter (a forked child of one that has imported only numpy /
OpenCV / MMEngine's config), so a module that imports torch at module level fails the test by
name. Start-up times are measured in ``benchmarks/bench_tool_startup.py``, not asserted here.
"""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))

# what the split tool, eval_dota.py, check_submission.py, check_dataset.py and the converters use
TORCH_FREE_MODULES = [
    'rotated_ld', 'rotated_ld.datasets', 'rotated_ld.datasets.split', 'rotated_ld.datasets.dota_txt',
    'rotated_ld.datasets.dota_patch_name', 'rotated_ld.datasets.dota_classes', 'rotated_ld.datasets.file_types',
    'rotated_ld.datasets.converters', 'rotated_ld.datasets.converters.cli', 'rotated_ld.datasets.synthetic',
    'rotated_ld.evaluation', 'rotated_ld.evaluation.functional', 'rotated_ld.utils',
    'rotated_ld.utils.setup_env', 'rotated_ld.utils.safe_pickle',
    # model comparison and the HTML report (torch only for pictures and a config's dataset)
    'rotated_ld.evaluation.analysis', 'rotated_ld.evaluation.analysis.loading',
    'rotated_ld.evaluation.analysis.compare', 'rotated_ld.evaluation.analysis.plots',
    'rotated_ld.evaluation.analysis.html_report',
]
# names reached through the lazy package attributes, still without torch
TORCH_FREE_ATTRS = [
    ('rotated_ld.datasets', 'parse_dota_txt'), ('rotated_ld.datasets', 'format_patch_name'),
    ('rotated_ld.datasets', 'DOTA_V1_0'), ('rotated_ld.datasets', 'make_palette'),
    ('rotated_ld.evaluation', 'eval_map'), ('rotated_ld.evaluation', 'merge_results'),
    ('rotated_ld.datasets', 'split'),
]

_CHILD = r'''
import importlib, io, json, os, runpy, sys, contextlib
import numpy, cv2, mmengine.config  # noqa: F401  (shared torch-free imports, paid once)
assert 'torch' not in sys.modules
jobs = json.loads(sys.argv[1])
out = {}
for kind, target in jobs:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: run one check, report whether torch got imported
        os.close(r)
        status = 'ok'
        try:
            if kind == 'module':
                importlib.import_module(target)
            elif kind == 'attr':
                getattr(importlib.import_module(target[0]), target[1])
            else:
                sys.argv = [target, '--help']
                with contextlib.redirect_stdout(io.StringIO()):
                    try:
                        runpy.run_path(target, run_name='__main__')
                    except SystemExit as e:
                        if e.code not in (0, None):
                            status = f'--help exited {e.code}'
        except BaseException as e:
            status = f'{type(e).__name__}: {e}'
        res = dict(status=status, torch='torch' in sys.modules)
        os.write(w, json.dumps(res).encode())
        os._exit(0)
    os.close(w)
    data = b''
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    out[json.dumps(target)] = json.loads(data)
print(json.dumps(out))
'''


def _run(jobs):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''),
               OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, '-c', _CHILD, json.dumps(jobs)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {tuple(k) if isinstance(k, list) else k: v
            for k, v in ((json.loads(k), v) for k, v in json.loads(proc.stdout.strip().splitlines()[-1]).items())}


def _tools():
    tools = []
    for d, _, files in os.walk(osp.join(ROOT, 'tools')):
        tools += [osp.relpath(osp.join(d, f), ROOT) for f in files if f.endswith('.py')]
    return sorted(tools)


@pytest.mark.skipif(not hasattr(os, 'fork'), reason='uses fork for cheap fresh interpreters')
def test_data_modules_import_without_torch():
    jobs = [['module', m] for m in TORCH_FREE_MODULES] + [['attr', list(a)] for a in TORCH_FREE_ATTRS]
    res = _run(jobs)
    bad = {k: v for k, v in res.items() if v['status'] != 'ok' or v['torch']}
    assert not bad, f'imported torch or failed: {bad}'
    assert len(res) == len(jobs)


@pytest.mark.skipif(not hasattr(os, 'fork'), reason='uses fork for cheap fresh interpreters')
def test_every_tool_help_without_torch():
    tools = _tools()
    assert 'tools/data/dota/split/img_split.py' in tools and 'tools/train.py' in tools
    res = _run([['tool', t] for t in tools])
    bad = {k: v for k, v in res.items() if v['status'] != 'ok' or v['torch']}
    assert not bad, f'--help imported torch or failed: {bad}'


@pytest.mark.skipif(not hasattr(os, 'fork'), reason='uses fork for cheap fresh interpreters')
def test_the_check_itself_sees_torch():
    """The harness must be able to fail: a module that imports torch is reported as such."""
    res = _run([['attr', ['rotated_ld.datasets', 'DOTADataset']]])  # the lazy attribute loads the class
    assert all(v['status'] == 'ok' and v['torch'] for v in res.values()), res


def test_registration_still_happens_through_the_scope():
    """A fresh process that only sets the default scope builds a dataset and a metric by name."""
    code = ('import sys\n'
            'from mmengine.registry import DefaultScope, DATASETS, METRICS\n'
            'import rotated_ld\n'
            "assert 'torch' not in sys.modules\n"
            "DefaultScope.get_instance('t', scope_name='rotated_ld')\n"
            "m = METRICS.build(dict(type='DOTAMetric'))\n"
            "print(type(m).__module__, DATASETS.get('rotated_ld.DOTADataset').__module__)\n"
            'from mmengine.runner.checkpoint import CheckpointLoader\n'
            "print(CheckpointLoader._schemes[''].__module__)\n"
            "print(CheckpointLoader._schemes['torchvision://'].__module__)\n"
            'from mmengine.fileio.backends.registry_utils import backends\n'
            "print(backends['local'].__module__)\n")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''), OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.split()
    assert lines[:2] == ['rotated_ld.evaluation.metrics.dota_metric', 'rotated_ld.datasets.dota']
    assert lines[2] == 'rotated_ld.utils.checkpoint'  # safe loader installed by the scope's registry
    assert lines[3] == 'rotated_ld.utils.pretrained'  # hub names read from the cache, never downloaded
    assert lines[4] == 'rotated_ld.engine.atomic_save'
