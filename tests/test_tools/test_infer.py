"""tools/infer.py: PNG + Task1 txt + json per image; bad inputs → one stderr line, exit ≠ 0.

Uses the toy blob detector of tests/test_apis (CPU, ~10 s: two CLI subprocesses)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
TOYDIR = ROOT / 'tests' / 'test_apis'
TOOL = ROOT / 'tools' / 'infer.py'
sys.path.insert(0, str(TOYDIR))
sys.path.insert(0, str(ROOT / 'tools'))

from toy_blob_detector import draw_scene, write_toy  # noqa: E402

A, B = (200, 100, 300, 140), (160, 180, 220, 230)


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    from rotated_ld.apis import init_detector

    d = tmp_path_factory.mktemp('infer')
    cfg = write_toy(d)
    model = init_detector(cfg, None, device='cpu')
    ckpt = d / 'toy.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(dataset_meta=dict(classes=('blob',)))), ckpt)
    scene = d / 'scene.png'
    cv2.imwrite(str(scene), draw_scene(300, 400, [A, B]))
    return d, cfg, str(ckpt), str(scene)


def _cli(*args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TOYDIR), str(ROOT)]))
    return subprocess.run([sys.executable, str(TOOL), *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=300)


def test_writes_png_txt_json(setup):
    d, cfg, ckpt, scene = setup
    out = d / 'out'
    r = _cli(scene, '--config', cfg, '--checkpoint', ckpt, '--out-dir', out, '--patch-size', 256, '--gap', 64,
             '--device', 'cpu')
    assert r.returncode == 0, r.stderr
    png = cv2.imread(str(out / 'scene.png'))
    src = cv2.imread(scene)
    assert png is not None and png.shape == src.shape
    changed = np.abs(png.astype(int) - src).sum(2) > 0
    assert 200 < changed.sum() < 0.5 * changed.size  # boxes + labels drawn, image still visible
    lines = (out / 'scene.txt').read_text().splitlines()
    assert len(lines) == 2 and all(ln.split()[0] == 'scene' and ln.split()[-1] == 'blob' for ln in lines)
    assert all(len(ln.split()) == 11 for ln in lines)
    meta = json.loads((out / 'scene.json').read_text())
    assert meta['width'] == 400 and meta['tiles'] == 4 and len(meta['detections']) == 2
    polys = np.array([det['poly'] for det in meta['detections']])
    xs = sorted(polys[:, 0::2].min(1).round().tolist())
    assert xs == [160, 200]  # scene pixels, each object once


def test_missing_image_one_line(setup, tmp_path):
    d, cfg, ckpt, _ = setup
    r = _cli(tmp_path / 'nope.png', '--config', cfg, '--checkpoint', ckpt)
    assert r.returncode != 0
    assert r.stderr.strip().splitlines() == [f'infer.py: error: image not found: {tmp_path / "nope.png"}']


@pytest.mark.parametrize('case', ['unreadable', 'wrong_arch', 'missing_ckpt'])
def test_bad_inputs_one_line(setup, tmp_path, capsys, case):
    import infer

    d, cfg, ckpt, scene = setup
    img = scene
    if case == 'unreadable':
        img = tmp_path / 'broken.png'
        img.write_bytes(b'this is not a png')
    elif case == 'wrong_arch':
        cfg = write_toy(tmp_path, 'wide.py', feat_channels=8)
    else:
        ckpt = str(tmp_path / 'nope.pth')
    rc = infer.main([str(img), '--config', cfg, '--checkpoint', ckpt, '--out-dir', str(tmp_path / 'o'),
                     '--device', 'cpu'])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc != 0 and len(err) == 1, err
    expect = dict(unreadable='cannot read image', wrong_arch='does not fit the model',
                  missing_ckpt='checkpoint file not found')[case]
    assert err[0].startswith('infer.py: error: ') and expect in err[0]


def test_whole_image_mode_and_folder_input(setup, tmp_path, capsys):
    import infer

    d, cfg, ckpt, scene = setup
    out = tmp_path / 'o'
    assert infer.main([str(Path(scene).parent), '--config', cfg, '--checkpoint', ckpt, '--out-dir', str(out),
                       '--patch-size', '0', '--no-png', '--device', 'cpu']) == 0
    meta = json.loads((out / 'scene.json').read_text())
    assert meta['tiles'] == 1 and len(meta['detections']) == 2 and not (out / 'scene.png').exists()


def test_image_name_with_spaces_round_trips_through_eval_dota(setup, tmp_path, capsys):
    """Regression: 'my scene.png' gave rows 'my scene 0.9 ...' (12 fields) that eval_dota
    rejected once grouped into a Task1 file. One id rule (whitespace -> _) for writers and readers."""
    import infer

    from tools.analysis_tools import eval_dota

    d, cfg, ckpt, scene = setup
    img = tmp_path / 'images' / 'my scene.png'
    img.parent.mkdir()
    img.write_bytes(Path(scene).read_bytes())
    out = tmp_path / 'o'
    assert infer.main([str(img), '--config', cfg, '--checkpoint', ckpt, '--out-dir', str(out), '--patch-size', '256',
                       '--gap', '64', '--no-png', '--device', 'cpu']) == 0
    rows = (out / 'my_scene.txt').read_text().splitlines()
    assert len(rows) == 2 and all(r.split()[0] == 'my_scene' and len(r.split()) == 11 for r in rows)
    # group the rows into a Task1 file of one DOTA class; ground truth named like the image
    det, gt = tmp_path / 'det', tmp_path / 'gt'
    det.mkdir()
    gt.mkdir()
    (det / 'Task1_plane.txt').write_text(''.join(' '.join(r.split()[:10]) + '\n' for r in rows))
    (gt / 'my scene.txt').write_text(''.join(f'{x0} {y0} {x1} {y0} {x1} {y1} {x0} {y1} plane 0\n'
                                             for x0, y0, x1, y1 in (A, B)))
    capsys.readouterr()
    assert eval_dota.main(['--gt', str(gt), '--det', str(det)]) == 0
    assert 'mAP: 1.0000' in capsys.readouterr().out
