"""Fuzz ``tools/infer.py`` with bad image files: empty, random bytes, truncated PNG / JPEG,
headers claiming 1x1 or 20000x20000 px with no pixel data (OpenCV allocates nothing for them:
the decode fails on the missing data), text named .png, broken .npy, missing files and folders.
Each must end in one stderr line ``infer.py: error: ...`` naming the file (exit != 0); a real 1x1
image is detected normally. Uses the toy blob detector of tests/test_apis. In-process ``main``
for the variants, one subprocess. CPU: ~5 s (+ one ~8 s subprocess).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ._garbage import BAD_IMAGE_KINDS, bad_image, real_image

# the toy checkpoint carries no convention meta on purpose (not what these tests are about)
pytestmark = pytest.mark.filterwarnings('ignore:checkpoint .* has no rotated_ld convention meta')
ROOT = Path(__file__).resolve().parents[2]
TOYDIR = ROOT / 'tests' / 'test_apis'
TOOL = ROOT / 'tools' / 'infer.py'
sys.path.insert(0, str(TOYDIR))
sys.path.insert(0, str(ROOT / 'tools'))


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    from toy_blob_detector import write_toy

    from rotated_ld.apis import init_detector

    d = tmp_path_factory.mktemp('infer_fuzz')
    cfg = write_toy(d)
    model = init_detector(cfg, None, device='cpu')
    ckpt = d / 'toy.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(dataset_meta=dict(classes=('blob',)))), ckpt)
    return cfg, str(ckpt)


def _infer(toy, inputs, out, capsys, *extra):
    import infer

    cfg, ckpt = toy
    rc = infer.main([*map(str, inputs), '--config', cfg, '--checkpoint', ckpt, '--out-dir', str(out),
                     '--device', 'cpu', '--patch-size', '64', '--gap', '16', '--no-png', *extra])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


@pytest.mark.parametrize('kind', BAD_IMAGE_KINDS)
@pytest.mark.parametrize('ext', ['.png', '.jpg'])
def test_bad_image_file(kind, ext, toy, tmp_path, fuzz, limit, capsys):
    for seed in range(2):
        p = tmp_path / f'bad{seed}{ext}'
        p.write_bytes(bad_image(kind, np.random.default_rng([13, seed, len(kind)])))
        with limit():
            rc, out, err = _infer(toy, [p], tmp_path / 'out', capsys)
        fuzz.cli('infer', err, rc, p, expect=('cannot read image',))
        assert err.strip().splitlines()[-1].startswith('infer.py: error: ')


def test_bad_image_among_good_ones(toy, tmp_path, fuzz, limit, capsys):
    """A folder with good images and one broken file: the broken one is named before any work."""
    folder = tmp_path / 'imgs'
    folder.mkdir()
    for i in range(2):
        (folder / f'good{i}.png').write_bytes(real_image(50, 60, seed=i))
    (folder / 'broken.jpg').write_bytes(real_image(50, 60, '.jpg')[:300])
    with limit():
        rc, out, err = _infer(toy, [folder], tmp_path / 'out', capsys)
    fuzz.cli('infer', err, rc, folder / 'broken.jpg', expect=('truncated JPEG',))
    assert not (tmp_path / 'out').exists()  # nothing half-done


@pytest.mark.parametrize('case', ['missing_file', 'empty_folder', 'npy_garbage', 'npy_float', 'npy_4d'])
def test_missing_and_npy(case, toy, tmp_path, fuzz, limit, capsys):
    p = tmp_path / 'x.npy'
    if case == 'missing_file':
        p = tmp_path / 'nope.png'
    elif case == 'empty_folder':
        p = tmp_path / 'empty'
        p.mkdir()
    elif case == 'npy_garbage':
        p.write_bytes(b'\x93NUMPY garbage')
    elif case == 'npy_float':
        np.save(p, np.zeros((8, 8, 3), np.float32))
    else:
        np.save(p, np.zeros((2, 8, 8, 3), np.uint8))
    with limit():
        rc, out, err = _infer(toy, [p], tmp_path / 'out', capsys)
    fuzz.cli('infer', err, rc, None if case.startswith('npy_') and case != 'npy_garbage' else p,
             expect=('not found', 'no images', 'cannot read', 'must be uint8'))


@pytest.mark.parametrize('hw', [(1, 1), (1, 97), (70, 1)])
def test_tiny_images_run(hw, toy, tmp_path, fuzz, capsys):
    p = tmp_path / 'tiny.png'
    p.write_bytes(real_image(*hw))
    for patch in ('64', '0'):
        rc, out, err = _infer(toy, [p], tmp_path / 'out', capsys, '--patch-size', patch)
        assert rc == 0, err
        meta = json.loads((tmp_path / 'out' / 'tiny.json').read_text())
        assert (meta['height'], meta['width']) == hw
        fuzz.accepted('infer')


def test_cli_subprocess_truncated_png(toy, tmp_path, fuzz):
    cfg, ckpt = toy
    p = tmp_path / 'cut.png'
    p.write_bytes(real_image(80, 90)[:200])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TOYDIR), str(ROOT)]), OMP_NUM_THREADS='1')
    r = subprocess.run([sys.executable, str(TOOL), str(p), '--config', cfg, '--checkpoint', ckpt, '--out-dir',
                        str(tmp_path / 'o'), '--device', 'cpu'], capture_output=True, text=True, cwd=ROOT, env=env,
                       timeout=180)
    fuzz.cli('infer', r.stderr, r.returncode, p, expect=('cannot read image',))
