"""The tools' entry wrapper (rotated_ld.utils.cli) and the train / test error cases that once passed silently.

Unit tests of the wrapper run in-process. The train.py / test.py cases run through
``tests/test_fuzz/_cli_driver.py`` in ONE subprocess (torch is imported once; each case is the
tool's real ``main``): a missing config, a missing ``_base_`` file, 0-byte / truncated / garbage
checkpoints, a refused pickle, a checkpoint of another architecture (silent mAP 0 before: now
exit 2, ``--partial-load`` evaluates and prints the counts), another class list in the
checkpoint meta, the demo config with ``train_cfg.max_iters=8`` (its schedule began after
the end). Each must end in exit 2 and one stderr line naming the file, no traceback.
CPU: ~25 s (one subprocess).
"""
from __future__ import annotations

import json
import os
import os.path as osp
import pickle
import subprocess
import sys

import pytest
import torch

from rotated_ld.utils import cli

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
HERE = osp.dirname(__file__)
TOY = osp.join(HERE, 'toy_config.py')
DEMO = osp.join(ROOT, 'configs', 'demo', 'rotated-gfl_r18-slim_fpn_synthetic-dota_le90.py')
DRIVER = osp.join(ROOT, 'tests', 'test_fuzz', '_cli_driver.py')


# ---------------------------------------------------------------------------------------- wrapper
def _wrapped(exc: BaseException):
    @cli.cli_main('tool.py')
    def main(argv=None):
        raise exc

    return main


@pytest.mark.parametrize('exc, code', [
    (FileNotFoundError('config file not found: a.py'), 2), (ValueError('x.txt:3: expected 8 numbers'), 2),
    (KeyError('no key train_cfg.max_iters'), 2), (cli.InputError('bad flag'), 2),
    (OSError(28, 'No space left on device'), 1), (ZeroDivisionError('division by zero'), 1),
    (UnicodeDecodeError('utf-8', b'\xff', 0, 1, 'invalid start byte'), 1), (KeyboardInterrupt(), 130)])
def test_exit_codes_and_one_line(exc, code, capsys):
    assert _wrapped(exc)([]) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('tool.py: ')
    if code == 1:
        assert type(exc).__name__ in err[0] and '--debug' in err[0]
    if code == 2:
        assert str(exc).strip("'") in err[0] and type(exc).__name__ not in err[0]


def test_exception_classes_carry_their_code():
    from rotated_ld.engine import NonFiniteLossError
    from rotated_ld.models.detectors.teacher_checks import TeacherCheckpointError
    from rotated_ld.utils import CorruptCheckpointError, UnsafeCheckpointError

    assert cli.exit_code_for(NonFiniteLossError('loss_cls is nan')) == 3
    for cls in (UnsafeCheckpointError, CorruptCheckpointError, TeacherCheckpointError):
        assert cli.exit_code_for(cls('x')) == 2


def test_debug_prints_the_traceback_and_multiline_messages_become_one(capsys, monkeypatch):
    main = _wrapped(ValueError('first line\n  second line'))
    assert main(['--debug']) == 2
    err = capsys.readouterr().err
    assert 'Traceback (most recent call last)' in err
    assert err.strip().splitlines()[-1] == 'tool.py: error: first line second line'
    monkeypatch.setenv(cli.DEBUG_ENV, '1')
    assert main([]) == 2 and 'Traceback' in capsys.readouterr().err
    monkeypatch.delenv(cli.DEBUG_ENV)
    assert main([]) == 2 and 'Traceback' not in capsys.readouterr().err


def test_system_exit_and_return_values_pass_through():
    @cli.cli_main('t.py')
    def main(argv=None):
        if argv:
            raise SystemExit(2)
        return dict(stats=1)

    assert main([]) == dict(stats=1)
    with pytest.raises(SystemExit):
        main(['x'])


def test_cli_module_imports_nothing_heavy():
    code = ('import sys, importlib.util as u; s = u.spec_from_file_location("c", sys.argv[1]); '
            'm = u.module_from_spec(s); s.loader.exec_module(m); '
            'print(sorted(k for k in ("torch", "mmengine", "numpy", "cv2") if k in sys.modules))')
    out = subprocess.run([sys.executable, '-c', code, osp.join(ROOT, 'rotated_ld', 'utils', 'cli.py')],
                         capture_output=True, text=True, timeout=60).stdout.strip()
    assert out == '[]'


# ---------------------------------------------------------------------------------------- train / test
def run_driver(cases: list, tmp_path, timeout: int = 600) -> list:
    """Run ``cases`` (dicts with tool, argv) through the driver in one subprocess."""
    cases_json, results_json = tmp_path / 'cases.json', tmp_path / 'results.json'
    cases_json.write_text(json.dumps(cases))
    env = dict(os.environ, OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join([HERE, ROOT, os.environ.get('PYTHONPATH', '')]))
    r = subprocess.run([sys.executable, DRIVER, str(cases_json), str(results_json)], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(results_json.read_text())


def last_line(res: dict) -> str:
    lines = [ln for ln in res['stderr'].strip().splitlines() if ln.strip()]
    return lines[-1] if lines else ''


def _toy_state():
    g = torch.Generator().manual_seed(0)
    return {'fc.weight': torch.randn(1, 8, generator=g), 'fc.bias': torch.zeros(1)}


class _Payload:
    def __reduce__(self):
        return (print, ('payload ran',))


def test_train_and_test_bad_inputs_are_one_line_exit_2(tmp_path):
    good = tmp_path / 'good.pth'
    torch.save(dict(state_dict=_toy_state()), good)
    raw = good.read_bytes()
    (tmp_path / 'empty.pth').write_bytes(b'')
    (tmp_path / 'cut.pth').write_bytes(raw[:len(raw) // 2])
    (tmp_path / 'junk.pth').write_bytes(b'not a checkpoint at all\n' * 20)
    with open(tmp_path / 'evil.pth', 'wb') as f:
        pickle.dump(dict(state_dict=_toy_state(), x=_Payload()), f)
    torch.save(dict(state_dict={'conv1.weight': torch.zeros(64, 3, 7, 7), 'fc.weight': torch.zeros(1000, 512)}),
               tmp_path / 'resnet.pth')
    torch.save(dict(state_dict=_toy_state(), meta=dict(rotated_ld_version='0', classes=['b', 'a'])),
               tmp_path / 'other_classes.pth')
    (tmp_path / 'child.py').write_text("_base_ = ['./missing_base.py']\nmodel = dict(type='ToyRegressor')\n")
    work = str(tmp_path / 'work')
    classes = ['--cfg-options', 'test_dataloader.dataset.metainfo.classes=[a,b]']
    cases = {
        'missing_config': ('tools/train.py', [str(tmp_path / 'nope.py'), '--work-dir', work], 'nope.py'),
        'missing_base': ('tools/train.py', [str(tmp_path / 'child.py'), '--work-dir', work], 'missing_base.py'),
        'test_missing_config': ('tools/test.py', [str(tmp_path / 'nope.py'), str(good)], 'nope.py'),
        'missing_ckpt': ('tools/test.py', [TOY, str(tmp_path / 'none.pth'), '--work-dir', work], 'none.pth'),
        'empty_ckpt': ('tools/test.py', [TOY, str(tmp_path / 'empty.pth'), '--work-dir', work], 'empty.pth'),
        'cut_ckpt': ('tools/test.py', [TOY, str(tmp_path / 'cut.pth'), '--work-dir', work], 'cut.pth'),
        'junk_ckpt': ('tools/test.py', [TOY, str(tmp_path / 'junk.pth'), '--work-dir', work], 'junk.pth'),
        'refused_pickle': ('tools/test.py', [TOY, str(tmp_path / 'evil.pth'), '--work-dir', work], 'evil.pth'),
        'resume_cut_ckpt': ('tools/train.py', [TOY, '--work-dir', work, '--resume', str(tmp_path / 'cut.pth')],
                            'cut.pth'),
        # regression: another architecture loaded nothing and evaluated a random model, exit 0
        'other_architecture': ('tools/test.py', [TOY, str(tmp_path / 'resnet.pth'), '--work-dir', work],
                               'resnet.pth'),
        # the demo config with a shorter training: the cosine phase began after the end (ValueError traceback)
        'demo_max_iters': ('tools/train.py', [DEMO, '--work-dir', work, '--cfg-options', 'train_cfg.max_iters=8'],
                           'param_scheduler.1.begin=1'),
        'convention_classes': ('tools/test.py', [TOY, str(tmp_path / 'other_classes.pth'), '--work-dir', work,
                                                 *classes], 'other_classes.pth'),
    }
    names = list(cases)
    runs = [dict(tool=t, argv=a) for t, a, _ in cases.values()]
    runs.append(dict(tool='tools/test.py', argv=[TOY, str(tmp_path / 'resnet.pth'), '--work-dir', work,
                                                 '--partial-load']))
    runs.append(dict(tool='tools/test.py', argv=[TOY, str(good), '--work-dir', work]))
    results = run_driver(runs, tmp_path)
    for name, res in zip(names, results):
        assert res['escaped'] is None, f'{name}: {res["escaped"]}'
        assert 'Traceback' not in res['stderr'], f'{name}: {res["stderr"]}'
        assert 'payload ran' not in res['stdout'] + res['stderr']
        msg = last_line(res)
        assert res['rc'] == 2, f'{name}: rc={res["rc"]} {msg}'
        assert cases[name][2] in msg and ': error: ' in msg, f'{name}: {msg}'
    assert 'does not fit the model' in last_line(results[names.index('other_architecture')])
    assert 'class lists differ' in last_line(results[names.index('convention_classes')])
    partial, fine = results[-2], results[-1]
    assert partial['rc'] == 0, partial['stderr']
    # fc.weight is in both with another shape, fc.bias only in the model, conv1.weight only in the file
    assert ('0 of the model\'s 2 weights loaded; 1 missing from the checkpoint, 1 unexpected, 1 with another '
            'shape') in partial['stderr']
    assert fine['rc'] == 0, fine['stderr']
