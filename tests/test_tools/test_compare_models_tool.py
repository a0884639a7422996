"""tools/analysis_tools/compare_models.py end to end: two models with known, constructed errors on a
hand-made DOTA set (labelTxt + images), read as test.py dumps, a Task1 folder and merged patches."""
import json
import pickle
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from rotated_ld.evaluation.functional import rbox2poly_np, write_task1

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools' / 'analysis_tools'))
sys.path.insert(0, str(Path(__file__).parent))
CLASSES = ('plane', 'ship')
D = np.pi / 180


def _scene(rng, n):
    return np.column_stack([rng.uniform(40, 260, n), rng.uniform(40, 260, n), rng.uniform(30, 50, n),
                            rng.uniform(10, 18, n), rng.uniform(-1.5, 1.5, n)])


def _dataset(root: Path):
    rng = np.random.default_rng(0)
    (root / 'labelTxt').mkdir()
    (root / 'images').mkdir()
    objs = {}
    for k in range(4):
        rb = _scene(rng, 3)
        rb[:, 0] = [60, 150, 240]  # apart: no overlaps between objects
        labels = np.array([0, 1, k % 2])
        objs[f's{k}'] = (rb, labels)
        cv2.imwrite(str(root / 'images' / f's{k}.png'), rng.integers(0, 255, (300, 300, 3), dtype=np.uint8))
        lines = [' '.join(f'{v:.3f}' for v in p) + f' {CLASSES[c]} 0' for p, c in zip(rbox2poly_np(rb), labels)]
        (root / 'labelTxt' / f's{k}.txt').write_text('\n'.join(lines) + '\n')
    return objs


def _dump(root: Path, objs, name, shift, turn, drop_first=False, patch_offset=None):
    recs = []
    for stem, (rb, labels) in objs.items():
        b = rb + [shift, 0, 0, 0, turn]
        sc = np.linspace(0.9, 0.5, len(b))
        lab = labels.copy()
        if drop_first and stem == 's0':
            b, sc, lab = b[1:], sc[1:], lab[1:]
        img = f'{stem}.png'
        if patch_offset is not None:  # one patch per scene at (dx, dy): patch-local coordinates
            b = b - [patch_offset[0], patch_offset[1], 0, 0, 0]
            img = f'{stem}__300__{patch_offset[0]}___{patch_offset[1]}.png'
        recs.append(dict(img_id=stem, img_path=str(root / 'images' / img),
                         pred_instances=dict(bboxes=b.astype(np.float32), scores=sc.astype(np.float32), labels=lab)))
    path = root / f'{name}.pkl'
    with open(path, 'wb') as f:
        pickle.dump(recs, f)
    return path


def test_two_models_with_known_errors(tmp_path):
    import compare_models as tool

    objs = _dataset(tmp_path)
    a = _dump(tmp_path, objs, 'a', shift=3.0, turn=6 * D)  # every object 3 px off and turned 6°
    b = _dump(tmp_path, objs, 'b', shift=1.0, turn=-2 * D, drop_first=True)  # 1 px, −2°, misses one object
    out = tmp_path / 'cmp'
    assert tool.main(['--gt', str(tmp_path / 'labelTxt'), '--classes', ','.join(CLASSES), '--results',
                      f'A={a}', f'B={b}', '--out-dir', str(out), '--img-dir', str(tmp_path / 'images'),
                      '--gallery', '3', '--bootstrap', '300']) == 0
    s = json.loads((out / 'summary.json').read_text())
    ta, tb = s['models']['A']['tp_stats']['all'], s['models']['B']['tp_stats']['all']
    assert ta['iou']['n'] == 12 and tb['iou']['n'] == 11
    # labelTxt keeps 3 decimals: ±0.0005 px on sides >= 10 px moves angles by < 0.01°
    assert ta['angle_err_deg']['mean'] == pytest.approx(6, abs=0.01)
    assert tb['angle_err_deg']['median'] == pytest.approx(2, abs=0.01)
    assert ta['centre_px']['mean'] == pytest.approx(3, abs=1e-3)
    assert tb['centre_px']['mean'] == pytest.approx(1, abs=1e-3)
    p = s['paired']['B - A']
    assert (p['objects_both'], p['only_a'], p['only_b']) == (11, 1, 0)
    assert p['angle_change_deg']['mean'] == pytest.approx(-4, abs=0.01)  # every object: 2° − 6°
    assert p['angle_change_deg']['hi'] == pytest.approx(-4, abs=0.01)
    assert p['iou_gain']['lo'] > 0  # B is better localised on every object it found
    assert s['models']['B']['errors']['counts']['missed'] == 1 and s['models']['A']['errors']['counts']['missed'] == 0
    for png in ('iou_cdf', 'angle_error_cdf', 'pr_curves', 'error_breakdown', 'class_ap50', 'iou_gain_B_vs_A'):
        assert (out / f'{png}.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    gal = cv2.imread(str(out / 'gallery_B_vs_A_improved.jpg'))
    assert gal is not None and gal.shape[0] > 192  # a title bar and at least one row of crops
    md = (out / 'summary.md').read_text()
    assert '| B - A | 11 | 1 | 0 |' in md and '![iou_cdf](iou_cdf.png)' in md


def test_task1_folder_and_merged_patches_score_like_the_dump(tmp_path):
    import compare_models as tool

    objs = _dataset(tmp_path)
    a = _dump(tmp_path, objs, 'a', shift=2.0, turn=3 * D)
    patches = _dump(tmp_path, objs, 'p', shift=2.0, turn=3 * D, patch_offset=(0, 0))
    dets = {stem: dict(bboxes=rbox2poly_np(rb + [2.0, 0, 0, 0, 3 * D]), scores=np.linspace(0.9, 0.5, 3), labels=lab)
            for stem, (rb, lab) in objs.items()}
    write_task1(dets, CLASSES, str(tmp_path / 'task1'))
    out = tmp_path / 'cmp'
    assert tool.main(['--gt', str(tmp_path / 'labelTxt'), '--classes', ','.join(CLASSES), '--merge', '--results',
                      f'dump={a}', f'task1={tmp_path / "task1"}', f'patches={patches}', '--out-dir', str(out),
                      '--gallery', '0', '--bootstrap', '100']) == 0
    s = json.loads((out / 'summary.json').read_text())['models']
    for other in ('task1', 'patches'):
        for key in ('mAP', 'AP50', 'AP75'):
            assert s[other]['metrics'][key] == pytest.approx(s['dump']['metrics'][key], abs=1e-6)
        assert s[other]['tp_stats']['all']['iou']['mean'] == pytest.approx(s['dump']['tp_stats']['all']['iou']['mean'],
                                                                             abs=1e-5)


def test_errors_are_one_line(tmp_path, capsys):
    import compare_models as tool

    _dataset(tmp_path)
    gt = ['--gt', str(tmp_path / 'labelTxt'), '--classes', ','.join(CLASSES), '--out-dir', str(tmp_path / 'o')]
    assert tool.main(gt + ['--results', 'nopath']) == 1
    assert tool.main(gt + ['--results', f'A={tmp_path / "missing.pkl"}']) == 1
    (tmp_path / 'bad.pkl').write_bytes(b'not a pickle')
    assert tool.main(gt + ['--results', f'A={tmp_path / "bad.pkl"}']) == 1
    assert tool.main(gt + ['--results', f'A={tmp_path / "bad.pkl"}', '--pair', 'A,Z']) == 1
    assert tool.main(['--gt', str(tmp_path / 'labelTxt'), '--out-dir', str(tmp_path / 'o'), '--results', 'A=x']) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 5 and all(line.startswith('compare_models: error: ') for line in err)
    assert 'NAME=PATH' in err[0] and 'missing.pkl' in err[1] and 'refused to load' in err[2] and '--classes' in err[4]


def test_a_model_without_detections(tmp_path):
    import compare_models as tool

    objs = _dataset(tmp_path)
    a = _dump(tmp_path, objs, 'a', shift=1.0, turn=0.0)
    empty = tmp_path / 'empty.pkl'
    with open(empty, 'wb') as f:
        pickle.dump([dict(img_path=str(tmp_path / 'images' / f'{s}.png'),
                          pred_instances=dict(bboxes=np.zeros((0, 5), np.float32), scores=np.zeros(0, np.float32),
                                              labels=np.zeros(0, np.int64))) for s in objs], f)
    out = tmp_path / 'cmp'
    assert tool.main(['--gt', str(tmp_path / 'labelTxt'), '--classes', ','.join(CLASSES), '--results', f'A={a}',
                      f'none={empty}', '--out-dir', str(out), '--img-dir', str(tmp_path / 'images'),
                      '--bootstrap', '50']) == 0
    s = json.loads((out / 'summary.json').read_text())
    assert s['models']['none']['metrics']['mAP'] == 0 and s['models']['none']['errors']['counts']['missed'] == 12
    assert s['paired']['none - A']['objects_both'] == 0 and s['paired']['none - A']['iou_gain']['mean'] is None


def test_report_source_of_a_merging_dota_config(tmp_path):
    """tools/test.py --report on a DOTA config whose DOTAMetric merges patches: ground truth = its gt_dir."""
    from mmengine.config import Config
    from test_confusion_matrix_tool import _dataset as dota_dataset

    from rotated_ld.datasets import DOTA_V1_0
    from rotated_ld.evaluation.analysis.html_report import config_report_source

    cfg = Config.fromfile(str(dota_dataset(tmp_path)))
    cfg.test_evaluator = dict(type='DOTAMetric')
    assert config_report_source(cfg) == (cfg, None, False)  # the config's own labelled dataset
    cfg.test_evaluator = dict(type='DOTAMetric', merge_patches=True, gt_dir=str(tmp_path / 'scenes'))
    gt, classes, merge = config_report_source(cfg)
    assert (gt, merge) == (str(tmp_path / 'scenes'), True) and classes == tuple(DOTA_V1_0)


def test_runs_without_torch_on_labeltxt_and_dumps(tmp_path):
    """Reading dumps / Task1 folders, scoring, statistics, plots and the markdown need no torch."""
    import subprocess

    objs = _dataset(tmp_path)
    a, b = _dump(tmp_path, objs, 'a', 3.0, 6 * D), _dump(tmp_path, objs, 'b', 1.0, 0.0)
    code = ('import sys, runpy; sys.argv = sys.argv[1:]; '
            'rc = 0\ntry:\n    runpy.run_path(sys.argv[0], run_name="__main__")\n'
            'except SystemExit as e:\n    rc = e.code\n'
            'print("TORCH", "torch" in sys.modules, "RC", rc)')
    r = subprocess.run([sys.executable, '-c', code, str(ROOT / 'tools/analysis_tools/compare_models.py'), '--gt',
                        str(tmp_path / 'labelTxt'), '--classes', ','.join(CLASSES), '--results', f'A={a}', f'B={b}',
                        '--out-dir', str(tmp_path / 'o'), '--gallery', '0', '--bootstrap', '50'],
                       capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert 'TORCH False RC 0' in r.stdout, r.stdout[-2000:] + r.stderr[-2000:]
    assert (tmp_path / 'o' / 'summary.json').exists()
