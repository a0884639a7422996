"""Fuzz the DOTA split tool (library and CLI): bad label lines, bad image bytes, 1x1 and
20000x20000-px headers, missing images / labels. Errors name the file (and line); missing parts are
counted in the summary; the object balance holds whenever the split runs. The CLI is called
in-process (``main(argv)``, same code path) for the many variants, and as a subprocess once
(stderr's last line); more subprocess cases are ``slow``. CPU: ~10 s (+ one ~6 s subprocess).
"""
from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from rotated_ld.datasets.dota_txt import DOTAFormatError
from rotated_ld.datasets.split import SplitConfig, split_dataset

from ._garbage import BAD_IMAGE_KINDS, LINE_KINDS, bad_image, dota_line, fmt, real_image

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / 'tools' / 'data' / 'dota' / 'split' / 'img_split.py'
CFG = SplitConfig(sizes=(64,), gaps=(16,))
sys.path.insert(0, str(TOOL.parent))


def _scene(root, n_img=1, hw=(100, 120), lines=None, rng=None):
    img_dir, ann_dir = root / 'images', root / 'labelTxt'
    img_dir.mkdir(parents=True)
    ann_dir.mkdir()
    for i in range(n_img):
        (img_dir / f'P{i:04d}.png').write_bytes(real_image(*hw, seed=i))
        body = lines if lines is not None else [
            fmt([10.0, 10.0, 30.0, 10.0, 30.0, 25.0, 10.0, 25.0], 'plane', 0).encode()]
        (ann_dir / f'P{i:04d}.txt').write_bytes(b'\n'.join(body) + b'\n')
    return img_dir, ann_dir


def _split(img_dir, ann_dir, save, cfg=CFG, nproc=1):
    return split_dataset([str(img_dir)], str(save), None if ann_dir is None else [str(ann_dir)], cfg,
                         nproc=nproc, progress=False, logger=None)


@pytest.mark.parametrize('kind', sorted(k for k, v in LINE_KINDS.items() if v not in (None, 'unknown_class')))
def test_bad_label_line(kind, tmp_path, fuzz, limit):
    for seed in range(3):
        rng = np.random.default_rng([7, seed, len(kind)])
        lines = [dota_line(rng, 'valid') for _ in range(2)]
        pos = int(rng.integers(0, 3))
        lines.insert(pos, dota_line(rng, kind))
        img_dir, ann_dir = _scene(tmp_path / f'{seed}', lines=lines)
        with limit():
            with pytest.raises(DOTAFormatError) as e:
                _split(img_dir, ann_dir, tmp_path / f'out{seed}')
        assert e.value.kind == LINE_KINDS[kind]
        fuzz.error('split', e.value, ann_dir / 'P0000.txt', pos + 1)


def test_unknown_class_carried_through(tmp_path, fuzz):
    """The split (like mmrotate's) takes any class name; the dataset reading its output names it."""
    from rotated_ld.datasets import DOTADataset

    img_dir, ann_dir = _scene(tmp_path, lines=[fmt([10.0, 10.0, 30.0, 10.0, 30.0, 25.0, 10.0, 25.0], 'Plane', 0)
                                               .encode()])
    st = _split(img_dir, ann_dir, tmp_path / 'out')
    assert st.objects_in == 1 and st.balanced and st.objects_out >= 1
    fuzz.accepted('split')
    with pytest.raises(DOTAFormatError) as e:
        DOTADataset(data_root=str(tmp_path / 'out'), ann_file='annfiles/', data_prefix=dict(img_path='images/'),
                    test_mode=True, serialize_data=False)
    assert e.value.kind == 'unknown_class'
    fuzz.error('DOTADataset', e.value, e.value.path, 1, expect=('not one of',))


@pytest.mark.parametrize('kind', BAD_IMAGE_KINDS)
def test_bad_image(kind, tmp_path, fuzz, limit):
    rng = np.random.default_rng([8, len(kind)])
    img_dir, ann_dir = _scene(tmp_path)
    (img_dir / 'P0000.png').write_bytes(bad_image(kind, rng))
    with limit():
        with pytest.raises(OSError) as e:
            _split(img_dir, ann_dir, tmp_path / 'out')
    fuzz.error('split', e.value, img_dir / 'P0000.png', expect=('cannot read image',))
    with limit():  # the CLI: one line, exit status != 0
        rc, err = _cli_inprocess(img_dir, ann_dir, tmp_path / 'out_cli')
    fuzz.cli('split_cli', err, rc, img_dir / 'P0000.png', expect=('cannot read image',))


def _cli_inprocess(img_dir, ann_dir, save, *extra):
    import img_split

    argv = ['--img-dirs', str(img_dir), '--save-dir', str(save), '--sizes', '64', '--gaps', '16', '--nproc', '1',
            '--no-progress', *extra]
    if ann_dir is not None:
        argv += ['--ann-dirs', str(ann_dir)]
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            result = img_split.main(argv)  # the entry wrapper: an error is one stderr line + exit code
    except SystemExit as e:  # argparse usage errors
        return e.code or 0, err.getvalue()
    return (result if isinstance(result, int) else 0), err.getvalue()


def test_tiny_and_odd_images_split_balanced(tmp_path, fuzz):
    """1x1, 1xN and grayscale images split; objects partly or wholly outside are counted."""
    for k, (h, w) in enumerate([(1, 1), (1, 300), (300, 1), (63, 65)]):
        root = tmp_path / f'{k}'
        lines = [fmt([0.0, 0.0, 0.9, 0.0, 0.9, 0.9, 0.0, 0.9], 'ship', 0).encode(),
                 fmt([-5.0, -5.0, 5.0, -5.0, 5.0, 5.0, -5.0, 5.0], 'plane', 1).encode(),
                 fmt([500.0, 500.0, 510.0, 500.0, 510.0, 510.0, 500.0, 510.0], 'plane', 0).encode()]
        img_dir, ann_dir = _scene(root, hw=(h, w), lines=lines)
        st = _split(img_dir, ann_dir, root / 'out')
        assert st.objects_in == 3 and st.balanced and st.patches >= 1
        assert st.lost_outside >= 1  # the object at (500, 500) lies outside every window
        fuzz.skip('split', st.lost)


def test_missing_images_and_labels_counted(tmp_path, fuzz):
    img_dir, ann_dir = _scene(tmp_path, n_img=3)
    (img_dir / 'P0001.png').unlink()  # a label file without its image
    (ann_dir / 'P0002.txt').unlink()  # an image without its label file
    (ann_dir / 'P0009.txt').write_bytes(b'\xff garbage line\n')  # orphan and malformed: counted, not parsed strictly
    st = _split(img_dir, ann_dir, tmp_path / 'out')
    assert (st.images, st.missing_labels, st.labels_without_image, st.objects_without_image) == (2, 1, 2, 1)
    assert st.balanced and st.objects_in == 1
    assert 'label files without an image (not split): 2 with 1 objects' in st.summary()
    fuzz.skip('split', st.labels_without_image + st.missing_labels)


def test_missing_dirs(tmp_path, fuzz):
    img_dir, ann_dir = _scene(tmp_path)
    with pytest.raises(FileNotFoundError) as e:
        _split(tmp_path / 'nope', ann_dir, tmp_path / 'o1')
    fuzz.error('split', e.value, tmp_path / 'nope', expect=('does not exist',))
    with pytest.raises(FileNotFoundError) as e:
        _split(img_dir, tmp_path / 'nolabels', tmp_path / 'o2')
    fuzz.error('split', e.value, tmp_path / 'nolabels', expect=('does not exist',))
    rc, err = _cli_inprocess(tmp_path / 'nope', None, tmp_path / 'o3')
    fuzz.cli('split_cli', err, rc, tmp_path / 'nope', expect=('does not exist',))


def test_worker_error_survives_the_pool(tmp_path, fuzz, limit):
    """nproc > 1: the worker's DOTAFormatError (file:line) reaches the parent intact. (An exception
    that cannot be unpickled kills the pool's result thread and ``imap`` waits forever: the old
    DOTAFormatError hung ``img_split.py`` with the default ``--nproc 10``.)"""
    img_dir, ann_dir = _scene(tmp_path, n_img=2)
    (ann_dir / 'P0001.txt').write_bytes(b'0 0 10 0 10 10 0 10 plane 0\n1 2 3\n')
    with limit(60), pytest.raises(DOTAFormatError) as e:
        _split(img_dir, ann_dir, tmp_path / 'out', nproc=2)
    fuzz.error('split', e.value, ann_dir / 'P0001.txt', 2, expect=('expected 9 or 10 fields',))


def _cli_subprocess(*args):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    return subprocess.run([sys.executable, str(TOOL), *map(str, args)], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=120)


def test_cli_subprocess_bad_label(tmp_path, fuzz):
    img_dir, ann_dir = _scene(tmp_path, lines=[b'0 0 10 0 10 10 0 10 plane 0', b'1 2 nan 4 5 6 7 8 ship 0'])
    r = _cli_subprocess('--img-dirs', img_dir, '--ann-dirs', ann_dir, '--save-dir', tmp_path / 'o', '--sizes', 64,
                        '--gaps', 16, '--nproc', 1, '--no-progress')
    fuzz.cli('split_cli', r.stderr, r.returncode, f'{ann_dir / "P0000.txt"}:2', expect=('non_numeric',))


@pytest.mark.slow
@pytest.mark.parametrize('kind', ['png_header_20000', 'truncated_png', 'empty'])
def test_cli_subprocess_bad_image(kind, tmp_path, fuzz):
    img_dir, ann_dir = _scene(tmp_path)
    (img_dir / 'P0000.png').write_bytes(bad_image(kind, np.random.default_rng(0)))
    r = _cli_subprocess('--img-dirs', img_dir, '--ann-dirs', ann_dir, '--save-dir', tmp_path / 'o', '--sizes', 64,
                        '--gaps', 16, '--nproc', 1, '--no-progress')
    fuzz.cli('split_cli', r.stderr, r.returncode, img_dir / 'P0000.png', expect=('cannot read image',))
    assert cv2.imread(str(img_dir / 'P0000.png')) is None
