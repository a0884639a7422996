"""Fuzz the command-line tools as a user runs them: broken data, results, configs and checkpoints.

Every case is a tool invocation on a broken input and must end in exactly one of:

* ``clear_error``   exit code != 0 and a last stderr line ``<tool>.py: error: ...`` (one line) that
                    names the broken file;
* ``counted_skip``  exit 0 with the broken part skipped and counted in the output (split tool:
                    label files without an image);
* ``traceback``     a Python traceback as the message, or an exception past the entry wrapper
                    (must stay 0);
* ``silent_success`` exit 0 on a broken input without a word about it (must stay 0).

Default suite: the cases run in ONE subprocess through ``_cli_driver.py`` (each case is the tool's
real ``main``; torch is imported once instead of once per case). ``slow``: every torch-free tool
case again as its own ``python tools/...`` process (exit status and stderr as a shell sees them).
The counts are printed in the pytest summary line ``fuzz: ...`` (with the other fuzz targets) and
by ``tests/test_fuzz/report_counts.py``. CPU: ~40 s default (one subprocess).
"""
from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from ._garbage import bad_image, dota_line, random_bytes, real_image, truncate

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / 'tests' / 'test_fuzz' / '_cli_driver.py'
TOY_TOOLS = ROOT / 'tests' / 'test_tools'
TOY_APIS = ROOT / 'tests' / 'test_apis'
TOY_CONFIG = TOY_TOOLS / 'toy_config.py'
DEMO = ROOT / 'configs' / 'demo' / 'rotated-gfl_r18-slim_fpn_synthetic-dota_le90.py'
TORCH_FREE = ('tools/analysis_tools/eval_dota.py', 'tools/analysis_tools/check_dataset.py',
              'tools/data/dota/check_submission.py', 'tools/data/dota/split/img_split.py',
              'tools/dataset_converters/labelme2dota.py', 'tools/dataset_converters/yolo_obb2dota.py',
              'tools/dataset_converters/rolabelimg2dota.py')


class _Payload:
    def __reduce__(self):
        return (print, ('payload ran',))


def _dota_folder(root: Path, rng, n: int = 2, bad_line: str | None = None, image: bytes | None = None) -> Path:
    (root / 'images').mkdir(parents=True)
    (root / 'labelTxt').mkdir()
    for i in range(n):
        lines = [dota_line(rng, 'valid') for _ in range(3)]
        if bad_line and i == 0:
            lines.insert(1, dota_line(rng, bad_line))
        (root / 'labelTxt' / f'P{i:04d}.txt').write_bytes(b'\n'.join(lines) + b'\n')
        (root / 'images' / f'P{i:04d}.png').write_bytes(image if image is not None and i == 0
                                                        else real_image(64, 64, seed=i))
    return root


def build_cases(tmp: Path) -> list[dict]:
    """``[{name, tool, argv, names, skip}]``: ``names`` = the file the error must name."""
    rng = np.random.default_rng(16)
    cases = []

    def add(name, tool, argv, names, skip=None):
        cases.append(dict(name=name, tool=tool, argv=[str(a) for a in argv], names=str(names), skip=skip))

    # ---------------------------------------------------------------- eval_dota (results)
    gt = _dota_folder(tmp / 'gt', rng) / 'labelTxt'
    for kind in ('field_count', 'nan', 'words', 'unknown_image', 'non_utf8', 'truncated', 'random'):
        det = tmp / f'det_{kind}'
        det.mkdir()
        rows = [b'P0000 0.9 10 10 40 10 40 30 10 30', b'P0001 0.5 1 1 9 1 9 9 1 9']
        bad = {'field_count': b'P0000 0.9 1 2 3', 'nan': b'P0000 nan 1 2 3 4 5 6 7 8',
               'words': b'P0000 0.9 a b c d e f g h', 'unknown_image': b'Q9 0.9 1 2 3 4 5 6 7 8',
               'non_utf8': b'P0000 0.9 1 2 3 4 \xff 6 7 8'}.get(kind)
        data = b'\n'.join(rows + ([bad] if bad else [])) + b'\n'
        if kind == 'truncated':
            data = truncate(data + b'P0000 0.7 1 2 3 4 5 6 7 8\n', rng).rstrip(b'\n')[:-3]
        elif kind == 'random':
            data = random_bytes(rng, 300)
        (det / 'Task1_plane.txt').write_bytes(data)
        add(f'eval_dota:{kind}', 'tools/analysis_tools/eval_dota.py', ['--gt', gt, '--det', det], 'Task1_plane.txt')
    add('eval_dota:no_gt_dir', 'tools/analysis_tools/eval_dota.py', ['--gt', tmp / 'nope', '--det', tmp / 'det_nan'],
        'nope')
    # ---------------------------------------------------------------- check_dataset (data)
    for kind in ('field_count', 'words', 'non_utf8', 'unknown_class'):
        d = _dota_folder(tmp / f'cd_{kind}', rng, bad_line=kind)
        add(f'check_dataset:{kind}', 'tools/analysis_tools/check_dataset.py',
            [d, '--classes', 'dota1.0', '--out-dir', tmp / 'cd_out'], 'P0000.txt')
    for kind in ('truncated_png', 'empty', 'random_bytes'):
        d = _dota_folder(tmp / f'cdi_{kind}', rng, image=bad_image(kind, rng))
        add(f'check_dataset:image_{kind}', 'tools/analysis_tools/check_dataset.py',
            [d, '--out-dir', tmp / 'cd_out'], 'P0000.png')
    d = _dota_folder(tmp / 'cd_bom', rng)
    p = d / 'labelTxt' / 'P0001.txt'
    p.write_bytes(b'\xef\xbb\xbfimagesource:GoogleEarth\n' + p.read_bytes())
    add('check_dataset:bom', 'tools/analysis_tools/check_dataset.py', [d, '--out-dir', tmp / 'cd_out'], 'P0001.txt')
    # ---------------------------------------------------------------- check_submission (results)
    empty = tmp / 'empty.zip'
    zipfile.ZipFile(empty, 'w').close()
    add('check_submission:empty_zip', 'tools/data/dota/check_submission.py', [empty], 'empty.zip')
    for kind in ('truncated', 'random'):
        z = tmp / f'sub_{kind}.zip'
        with zipfile.ZipFile(tmp / 'ok.zip', 'w', zipfile.ZIP_DEFLATED) as zf:
            zf.writestr('Task1_plane.txt', 'P0001 0.9 1 2 3 4 5 6 7 8\n' * 200)
        raw = (tmp / 'ok.zip').read_bytes()
        z.write_bytes(truncate(raw, rng) if kind == 'truncated' else random_bytes(rng, 500))
        add(f'check_submission:{kind}', 'tools/data/dota/check_submission.py', [z], z.name)
    z = tmp / 'one_line.zip'
    with zipfile.ZipFile(z, 'w', zipfile.ZIP_DEFLATED) as zf:
        zf.writestr('Task1_plane.txt', '1' * (8 << 20))
    add('check_submission:huge_line', 'tools/data/dota/check_submission.py', [z], 'Task1_plane.txt')
    # ---------------------------------------------------------------- split (non-atomic cases)
    for kind in ('field_count', 'nan_inf', 'non_utf8'):
        d = _dota_folder(tmp / f'sp_{kind}', rng, bad_line=kind)
        add(f'split:{kind}', 'tools/data/dota/split/img_split.py',
            ['--img-dirs', d / 'images', '--ann-dirs', d / 'labelTxt', '--save-dir', tmp / f'sp_out_{kind}',
             '--sizes', '64', '--gaps', '16', '--no-progress'], 'P0000.txt')
    d = _dota_folder(tmp / 'sp_img', rng, image=bad_image('truncated_png', rng))
    add('split:truncated_png', 'tools/data/dota/split/img_split.py',
        ['--img-dirs', d / 'images', '--ann-dirs', d / 'labelTxt', '--save-dir', tmp / 'sp_out_img', '--sizes', '64',
         '--gaps', '16', '--no-progress'], 'P0000.png')
    d = _dota_folder(tmp / 'sp_missing', rng, n=3)
    (d / 'images' / 'P0002.png').unlink()
    add('split:label_without_image', 'tools/data/dota/split/img_split.py',
        ['--img-dirs', d / 'images', '--ann-dirs', d / 'labelTxt', '--save-dir', tmp / 'sp_out_missing', '--sizes',
         '64', '--gaps', '16', '--no-progress'], '', skip='label files without an image')
    (tmp / 'bad.json').write_text('{"sizes": [64,')
    add('split:bad_base_json', 'tools/data/dota/split/img_split.py', ['--base-json', tmp / 'bad.json'], 'bad.json')
    # ---------------------------------------------------------------- converters (data)
    lm = tmp / 'labelme'
    lm.mkdir()
    (lm / 'a.json').write_bytes(b'{"shapes": [ {"label": "x", "points": [[1,2],')
    add('labelme2dota:truncated_json', 'tools/dataset_converters/labelme2dota.py', [lm, tmp / 'lm_out'], '',
        skip='json parse error')
    add('labelme2dota:missing_dir', 'tools/dataset_converters/labelme2dota.py', [tmp / 'nolm', tmp / 'lm_out'],
        'nolm')
    ro = tmp / 'rolabelimg'
    ro.mkdir()
    (ro / 'a.xml').write_bytes(b'<annotation><object><robndbox><cx>1</cx>')
    add('rolabelimg2dota:truncated_xml', 'tools/dataset_converters/rolabelimg2dota.py', [ro, tmp / 'ro_out'], '',
        skip='xml parse error')
    # ---------------------------------------------------------------- checkpoints: test, infer, publish, import, export
    good = tmp / 'toy.pth'
    torch.save(dict(state_dict={'fc.weight': torch.zeros(1, 8), 'fc.bias': torch.zeros(1)}), good)
    raw = good.read_bytes()
    bad_ckpts = {'empty.pth': b'', 'cut.pth': truncate(raw, rng), 'junk.pth': random_bytes(rng, 400)}
    for name, data in bad_ckpts.items():
        (tmp / name).write_bytes(data)
    with open(tmp / 'evil.pth', 'wb') as f:
        pickle.dump(dict(state_dict={}, x=_Payload()), f)
    torch.save(dict(state_dict={'conv1.weight': torch.zeros(4, 3, 7, 7)}), tmp / 'resnet.pth')
    for name in [*bad_ckpts, 'evil.pth', 'resnet.pth']:
        ck = tmp / name
        add(f'test:{name}', 'tools/test.py', [TOY_CONFIG, ck, '--work-dir', tmp / 'work'], name)
        if name != 'resnet.pth':  # a plain state dict is fine to publish / import
            add(f'publish:{name}', 'tools/model_converters/publish_model.py', [ck, tmp / 'pub' / 'p.pth'], name)
            add(f'import:{name}', 'tools/model_converters/import_weights.py',
                [ck, tmp / 'imp.pth', '--from', 'torchvision-resnet'], name)
    img = tmp / 'scene.png'
    img.write_bytes(real_image(64, 64))
    for name in [*bad_ckpts, 'evil.pth', 'resnet.pth']:
        add(f'infer:{name}', 'tools/infer.py', [img, '--config', DEMO, '--checkpoint', tmp / name, '--out-dir',
                                                 tmp / 'inf', '--device', 'cpu', '--no-png'], name)
    add('export:cut.pth', 'tools/deployment/export_onnx.py', [DEMO, tmp / 'cut.pth', '--out', tmp / 'm.onnx'],
        'cut.pth')
    # ---------------------------------------------------------------- configs: train, test, print_config, get_flops
    (tmp / 'no_base.py').write_text("_base_ = ['./not_there.py']\n")
    (tmp / 'syntax.py').write_text('model = dict(type=\n')
    for name, cfg in (('missing', tmp / 'missing.py'), ('no_base', tmp / 'no_base.py'),
                      ('syntax', tmp / 'syntax.py')):
        expect = {'missing': 'missing.py', 'no_base': 'not_there.py', 'syntax': 'syntax.py'}[name]
        add(f'train:config_{name}', 'tools/train.py', [cfg, '--work-dir', tmp / 'work'], expect)
        add(f'print_config:{name}', 'tools/misc/print_config.py', [cfg], expect)
        add(f'get_flops:{name}', 'tools/analysis_tools/get_flops.py', [cfg], expect)
    add('train:demo_max_iters', 'tools/train.py', [DEMO, '--work-dir', tmp / 'work', '--cfg-options',
                                                   'train_cfg.max_iters=8'], DEMO.name)
    add('train:resume_cut', 'tools/train.py', [TOY_CONFIG, '--work-dir', tmp / 'work', '--resume', tmp / 'cut.pth'],
        'cut.pth')
    # ---------------------------------------------------------------- logs and results
    log = tmp / 'scalars.json'
    log.write_bytes(b'{"loss": 1.0, "step": 1}\n{"loss": 0.')
    add('analyze_logs:truncated', 'tools/analysis_tools/analyze_logs.py',
        ['plot_curve', log, '--keys', 'loss', '--out', tmp / 'c.png'], 'scalars.json')
    with open(tmp / 'res.pkl', 'wb') as f:
        pickle.dump([_Payload()], f)
    add('confusion_matrix:evil_pkl', 'tools/analysis_tools/confusion_matrix.py', [DEMO, tmp / 'res.pkl', tmp / 'cm'],
        'res.pkl')
    return cases


def classify(case: dict, res: dict) -> tuple[str, str]:
    """``(outcome, why)`` of one case (see the module docstring)."""
    err = res['stderr']
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    if res.get('escaped') or 'Traceback (most recent call last)' in err:
        return 'traceback', (res.get('escaped') or err)[-1500:]
    if 'payload ran' in res['stdout'] + err:
        return 'traceback', 'a pickled payload ran'
    if res['rc'] == 0:
        if case['skip'] and case['skip'] in res['stdout'] + err:
            return 'counted_skip', ''
        return 'silent_success', (res['stdout'] + err)[-800:]
    last = lines[-1] if lines else ''
    if ': error: ' not in last and 'usage:' not in err:
        return 'unclear', f'last stderr line is not "<tool>: error: ...": {err[-800:]!r}'
    if case['names'] and case['names'] not in last:
        return 'unclear', f'message does not name {case["names"]!r}: {last!r}'
    return 'clear_error', ''


def _env() -> dict:
    return dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=os.pathsep.join(
        [str(TOY_TOOLS), str(TOY_APIS), str(ROOT), os.environ.get('PYTHONPATH', '')]))


def _tally(fuzz, cases, results) -> None:
    bad = []
    for case, res in zip(cases, results):
        outcome, why = classify(case, res)
        target = 'cli:' + case['name'].split(':')[0]
        if outcome in ('clear_error', 'counted_skip', 'traceback', 'silent_success'):
            fuzz.record(target, outcome)
        if outcome not in ('clear_error', 'counted_skip'):
            bad.append(f'{case["name"]} ({case["tool"]} {" ".join(case["argv"])}): {outcome}: {why}')
    assert not bad, '\n\n'.join(bad)


def test_cli_broken_inputs_one_subprocess(tmp_path, fuzz):
    cases = build_cases(tmp_path)
    (tmp_path / 'cases.json').write_text(json.dumps(cases))
    r = subprocess.run([sys.executable, str(DRIVER), str(tmp_path / 'cases.json'), str(tmp_path / 'res.json')],
                       cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    results = json.loads((tmp_path / 'res.json').read_text())
    assert len(results) == len(cases)
    _tally(fuzz, cases, results)


@pytest.mark.slow
def test_cli_torch_free_tools_each_as_its_own_process(tmp_path, fuzz):
    """The same cases of the torch-free tools, each as ``python tools/X.py ARGS`` (a shell's view)."""
    cases = [c for c in build_cases(tmp_path) if c['tool'] in TORCH_FREE]
    results = []
    for c in cases:
        r = subprocess.run([sys.executable, str(ROOT / c['tool']), *c['argv']], cwd=tmp_path, env=_env(),
                           capture_output=True, text=True, timeout=300)
        results.append(dict(rc=r.returncode, stderr=r.stderr, stdout=r.stdout, escaped=None))
    _tally(fuzz, cases, results)
