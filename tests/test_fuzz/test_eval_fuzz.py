"""Fuzz the DOTA Task1 scorer: ground-truth labelTxt dirs and Task1_<class>.txt detection files,
through the loaders and ``tools/analysis_tools/eval_dota.py`` (in-process ``main`` for the many
variants, one subprocess). Errors name ``file:line``; the scorer's balance line holds. CPU: ~5 s
(+ one ~6 s subprocess).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rotated_ld.datasets import DOTA_V1_0
from rotated_ld.evaluation.functional import load_labeltxt_dir, load_task1_dir

from ._garbage import LINE_KINDS, dota_line, fmt, random_bytes, rect_poly, truncate

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / 'tools' / 'analysis_tools' / 'eval_dota.py'
sys.path.insert(0, str(TOOL.parent))

# labelTxt line kind -> the scorer's answer: 'ok' (read and scored) or 'error' (file:line)
GT_KINDS = {k: ('ok' if v in (None, 'degenerate') else 'error') for k, v in LINE_KINDS.items()}


def _gt_dir(root, rng, bad_kind=None):
    """labelTxt dir with images A, B; ``bad_kind`` line inserted into A. Returns (dir, line no, rows)."""
    d = root / 'gt'
    d.mkdir(parents=True)
    rows = 0
    bad_line = None
    for img in ('A', 'B'):
        lines = [b'imagesource:GoogleEarth', b'gsd:0.1'] + [dota_line(rng, 'valid') for _ in range(3)]
        if img == 'A' and bad_kind is not None:
            pos = int(rng.integers(2, len(lines) + 1))
            lines.insert(pos, dota_line(rng, bad_kind))
            bad_line = pos + 1
        rows += len(lines) - 2
        (d / f'{img}.txt').write_bytes(b'\n'.join(lines) + b'\n')
    return d, bad_line, rows


def _eval_main(argv, capsys):
    import eval_dota

    rc = eval_dota.main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.mark.parametrize('kind', sorted(GT_KINDS))
def test_ground_truth_lines(kind, tmp_path, fuzz, limit, capsys):
    for seed in range(6):
        rng = np.random.default_rng([9, seed, len(kind)])
        root = tmp_path / f'{seed}'
        gt, bad_line, rows = _gt_dir(root, rng, kind)
        with limit():
            if GT_KINDS[kind] == 'error':
                with pytest.raises(ValueError) as e:
                    load_labeltxt_dir(str(gt), DOTA_V1_0)
                fuzz.error('scorer_gt', e.value, gt / 'A.txt', bad_line,
                           expect=('expected', 'non-finite', 'beyond', 'not in the class list', 'not utf-8'))
                continue
            gts = load_labeltxt_dir(str(gt), DOTA_V1_0)
        assert sum(len(g['labels']) + len(g['labels_ignore']) for g in gts.values()) == rows  # in = out
        fuzz.accepted('scorer_gt')


def _task1_line(rng, img='A', kind='valid') -> bytes:
    poly = [str(v) for v in rect_poly(rng)]
    score = f'{rng.uniform(0.05, 1):.3f}'
    if kind == 'valid':
        return f'{img} {score} {" ".join(poly)}'.encode()
    if kind == 'field_count':
        toks = [img, score] + poly
        return ' '.join(toks[:int(rng.integers(1, 10))] if rng.random() < 0.5 else toks + ['plane']).encode()
    if kind == 'nan_score':
        return f'{img} {rng.choice(["nan", "inf", "-inf"])} {" ".join(poly)}'.encode()
    if kind == 'nan_coord':
        poly[int(rng.integers(8))] = str(rng.choice(['nan', 'inf', '1e999']))
        return f'{img} {score} {" ".join(poly)}'.encode()
    if kind == 'huge_coord':
        poly[int(rng.integers(8))] = str(rng.choice([1e7, -1e12, 1e300]))
        return f'{img} {score} {" ".join(poly)}'.encode()
    if kind == 'words':
        poly[int(rng.integers(8))] = 'x'
        return f'{img} {score} {" ".join(poly)}'.encode()
    if kind == 'unknown_image':
        return f'Z{rng.integers(100)} {score} {" ".join(poly)}'.encode()
    if kind == 'non_utf8':
        return f'{img} {score} '.encode() + b'\xff\xfe ' + ' '.join(poly).encode()
    if kind == 'zero_area':
        return f'{img} {score} ' .encode() + ' '.join(['5.0'] * 8).encode()
    raise KeyError(kind)


TASK1_KINDS = {'valid': 'ok', 'zero_area': 'ok', 'field_count': 'error', 'nan_score': 'error',
               'nan_coord': 'error', 'huge_coord': 'error', 'words': 'error', 'unknown_image': 'error',
               'non_utf8': 'error'}


@pytest.mark.parametrize('kind', sorted(TASK1_KINDS))
def test_task1_lines(kind, tmp_path, fuzz, limit, capsys):
    for seed in range(6):
        rng = np.random.default_rng([10, seed, len(kind)])
        root = tmp_path / f'{seed}'
        gt, _, _ = _gt_dir(root, rng)
        det = root / 'det'
        det.mkdir()
        lines = [_task1_line(rng, str(rng.choice(['A', 'B']))) for _ in range(4)]
        pos = int(rng.integers(0, 5))
        lines.insert(pos, _task1_line(rng, 'A', kind))
        cls = str(rng.choice(DOTA_V1_0))
        p = det / f'Task1_{cls}.txt'
        p.write_bytes(b'\n'.join(lines) + b'\n')
        with limit():
            rc, out, err = _eval_main(['--gt', str(gt), '--det', str(det), '--out', str(root / 'r.json')], capsys)
        if TASK1_KINDS[kind] == 'error':
            fuzz.cli('scorer_cli', err, rc, f'Task1_{cls}.txt:{pos + 1}',
                     expect=('expected', 'number', 'non-finite', 'score is', 'beyond', 'no ground-truth', 'utf-8'))
            with pytest.raises(ValueError) as e:
                load_task1_dir(str(det), DOTA_V1_0, ['A', 'B'])
            fuzz.error('scorer_task1', e.value, p, pos + 1)
            continue
        assert rc == 0, err
        bal = json.loads((root / 'r.json').read_text())['balance']
        assert bal['det_read'] == bal['det_scored'] == 5
        assert bal['gt_read'] == bal['gt_scored'] + bal['gt_difficult'] == 6
        assert 'balance: ground truth read 6' in out
        fuzz.accepted('scorer_cli')


@pytest.mark.parametrize('case', ['truncated', 'random_bytes', 'empty', 'unknown_class_file', 'dir_as_file',
                                  'no_task1_files', 'missing_gt_dir', 'empty_gt_dir'])
def test_scorer_files(case, tmp_path, fuzz, capsys):
    rng = np.random.default_rng([11, len(case)])
    gt, _, _ = _gt_dir(tmp_path, rng)
    det = tmp_path / 'det'
    det.mkdir()
    data = b'\n'.join(_task1_line(rng, 'B') for _ in range(4)) + b'\n'
    p = det / 'Task1_plane.txt'
    where = p
    if case == 'truncated':
        data = truncate(data, rng)
        p.write_bytes(data)
    elif case == 'random_bytes':
        p.write_bytes(random_bytes(rng, 200))
    elif case == 'empty':
        p.write_bytes(b'')
    elif case == 'unknown_class_file':
        where = det / 'Task1_car.txt'
        where.write_bytes(data)
    elif case == 'dir_as_file':
        p.mkdir()
    elif case == 'missing_gt_dir':
        p.write_bytes(data)
        gt = where = tmp_path / 'no_gt'
    elif case == 'empty_gt_dir':
        p.write_bytes(data)
        gt = where = tmp_path / 'empty_gt'
        gt.mkdir()
    else:
        where = det
    rc, out, err = _eval_main(['--gt', str(gt), '--det', str(det)], capsys)
    if rc == 0:  # a truncation that left whole rows, or an empty file (no detections of the class)
        assert case in ('truncated', 'empty')
        n_rows = len([ln for ln in p.read_bytes().split(b'\n') if ln.strip()])
        assert f'detections read {n_rows} = scored {n_rows}' in out
        fuzz.accepted('scorer_cli')
        return
    fuzz.cli('scorer_cli', err, rc, where, expect=('expected', 'fields', 'not', 'no ', 'directory', 'utf-8'))


def test_cli_subprocess_bad_det(tmp_path, fuzz):
    rng = np.random.default_rng(12)
    gt, _, _ = _gt_dir(tmp_path, rng)
    det = tmp_path / 'det'
    det.mkdir()
    (det / 'Task1_ship.txt').write_text('A 0.9 1 2 3 4 5 6 7 8\nA 0.8 1 2 3 nan 5 6 7 8\n')
    r = subprocess.run([sys.executable, str(TOOL), '--gt', str(gt), '--det', str(det)], capture_output=True,
                       text=True, cwd=ROOT, env=dict(os.environ, OMP_NUM_THREADS='1'), timeout=120)
    fuzz.cli('scorer_cli', r.stderr, r.returncode, 'Task1_ship.txt:2', expect=('non-finite',))


def test_zero_area_and_self_intersecting_scored(tmp_path, fuzz, capsys):
    """Zero-area / bow-tie ground truth is read and counted (it can never be matched), not dropped."""
    gt = tmp_path / 'gt'
    gt.mkdir()
    (gt / 'A.txt').write_text(fmt([5.0] * 8, 'plane', 0) + '\n' + fmt([0.0, 0.0, 10.0, 10.0, 10.0, 0.0, 0.0, 10.0],
                                                                     'ship', 0) + '\n')
    det = tmp_path / 'det'
    det.mkdir()
    (det / 'Task1_plane.txt').write_text('A 0.9 5 5 5 5 5 5 5 5\n')
    rc, out, err = _eval_main(['--gt', str(gt), '--det', str(det)], capsys)
    assert rc == 0 and 'ground truth read 2 = scored 2' in out and 'detections read 1 = scored 1' in out
    fuzz.accepted('scorer_cli')
