"""Split output against an independent reference, and the split's behaviour when it is interrupted.

The reference is computed here from the source files only: windows by a plain loop (mmrotate's
placement rule), patch pixels by numpy slicing of the decoded scene (padded with the padding
value), the objects of each patch by one shapely IoF per (object, window). Every patch the split
writes must match it exactly: names, every pixel, and the label lines (the same objects,
translated coordinates, difficulty 2 exactly when IoF < 1). Checked for 1 and 2 processes and
for stored and compressed PNG.
"""
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest
import shapely

from rotated_ld.datasets.dota_txt import parse_dota_txt
from rotated_ld.datasets.split import SplitConfig, finished_images, split_dataset
from rotated_ld.datasets.synthetic import make_dota_scenes

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
PAD = (104, 116, 124)


@pytest.fixture(scope='module')
def scenes(tmp_path_factory):
    root = tmp_path_factory.mktemp('scenes_eq')
    make_dota_scenes(str(root), num=3, size_range=(500, 800), seed=11)
    return root


def _ref_starts(side, size, step):
    starts, x = [0], 0
    while x + size < side:  # another window is needed to reach the far edge
        x += step
        starts.append(x)
    if len(starts) > 1 and starts[-1] + size > side:
        starts[-1] = side - size  # the last one ends at the edge
    return starts


def _ref_windows(w, h, size, gap, thr=0.6):
    wins = [(x, y, x + size, y + size) for x in _ref_starts(w, size, size - gap)
            for y in _ref_starts(h, size, size - gap)]
    rate = [(min(x1, w) - x0) * (min(y1, h) - y0) / size ** 2 for x0, y0, x1, y1 in wins]
    keep = [r > thr for r in rate]
    if not any(keep):
        keep = [abs(r - max(rate)) < 0.01 for r in rate]
    return [win for win, k in zip(wins, keep) if k]


def _reference(scenes, sizes, gaps, iof_thr=0.7):
    """{patch name: (pixels, [(poly (8,), label, difficulty)], ambiguous objects)} from the sources."""
    out = {}
    for fname in sorted(os.listdir(scenes / 'images')):
        img_id = fname[:-4]
        img = cv2.imread(str(scenes / 'images' / fname))
        h, w = img.shape[:2]
        src = parse_dota_txt(str(scenes / 'labelTxt' / f'{img_id}.txt'))
        geoms = [shapely.Polygon(p.reshape(4, 2)) for p in src.polys]
        for size, gap in zip(sizes, gaps):
            for x0, y0, x1, y1 in _ref_windows(w, h, size, gap):
                pix = np.empty((size, size, 3), np.uint8)
                pix[...] = PAD
                crop = img[y0:y1, x0:x1]
                pix[:crop.shape[0], :crop.shape[1]] = crop
                objs, ambiguous = [], 0
                box = shapely.box(x0, y0, x1, y1)
                for p, g, lab, d in zip(src.polys, geoms, src.labels, src.difficulties):
                    iof = g.intersection(box).area / g.area
                    if abs(iof - iof_thr) < 1e-9:
                        ambiguous += 1  # on the threshold: either answer is right
                        continue
                    if iof >= iof_thr:
                        objs.append((p - np.array([x0, y0] * 4), lab, 2 if iof < 1 - 1e-9 else int(d)))
                out[f'{img_id}__{size}__{x0}___{y0}'] = (pix, objs, ambiguous)
    return out


def _assert_matches(save_dir, ref):
    names = sorted(f[:-4] for f in os.listdir(osp.join(save_dir, 'images')))
    assert names == sorted(ref), set(names) ^ set(ref)
    assert sorted(f[:-4] for f in os.listdir(osp.join(save_dir, 'annfiles'))) == names
    n_obj = 0
    for name in names:
        pix, objs, ambiguous = ref[name]
        got = cv2.imread(osp.join(save_dir, 'images', name + '.png'), cv2.IMREAD_UNCHANGED)
        assert got.shape == pix.shape and np.array_equal(got, pix), name
        ann = parse_dota_txt(osp.join(save_dir, 'annfiles', name + '.txt'))
        assert len(objs) <= len(ann.polys) <= len(objs) + ambiguous, name
        used = np.zeros(len(ann.polys), bool)
        for poly, lab, diff in objs:
            k = np.nonzero((np.abs(ann.polys - poly).max(1) < 1e-6) & ~used)[0]
            assert len(k), f'{name}: object {lab} {poly} missing'
            used[k[0]] = True
            assert ann.labels[k[0]] == lab and ann.difficulties[k[0]] == diff, name
        n_obj += len(objs)
    assert n_obj > 20  # the scenes do put objects into patches


@pytest.mark.parametrize('nproc,png', [(1, 0), (2, -1)])
def test_split_equals_numpy_crop_and_shapely_reference(scenes, tmp_path, nproc, png):
    ref = _reference(scenes, [256], [64])
    out = tmp_path / 'split'
    st = split_dataset([str(scenes / 'images')], str(out), [str(scenes / 'labelTxt')],
                       SplitConfig(sizes=[256], gaps=[64], png_compression=png), nproc=nproc, progress=False,
                       logger=None)
    assert st.patches == len(ref)
    _assert_matches(out, ref)


def test_padded_and_multiscale_windows_equal_reference(scenes, tmp_path):
    # rates 0.5 and 1 -> windows 600/200 (larger than some scenes: padded) and 300/100, cut unscaled
    ref = _reference(scenes, [600, 300], [200, 100])
    out = tmp_path / 'ms'
    split_dataset([str(scenes / 'images')], str(out), [str(scenes / 'labelTxt')],
                  SplitConfig(sizes=[300], gaps=[100], rates=[0.5, 1.0]), progress=False, logger=None)
    assert any((pix == PAD).all(-1).any() for pix, _, _ in ref.values())  # padding is exercised
    _assert_matches(out, ref)


def test_interrupted_split_leaves_only_complete_files_and_resumes(scenes, tmp_path, monkeypatch):
    """Ctrl-C between writing a temp file and renaming it: the temp file is removed, every file
    present decodes completely, and a re-run finishes the split exactly as the reference."""
    out = tmp_path / 'split'
    cfg = SplitConfig(sizes=[256], gaps=[64])
    real_replace, calls = os.replace, []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == 7:
            raise KeyboardInterrupt
        return real_replace(src, dst)

    monkeypatch.setattr(os, 'replace', replace)
    with pytest.raises(KeyboardInterrupt):
        split_dataset([str(scenes / 'images')], str(out), [str(scenes / 'labelTxt')], cfg, progress=False,
                      logger=None)
    monkeypatch.setattr(os, 'replace', real_replace)
    leftovers = [f for d in ('images', 'annfiles', '.split_done') for f in os.listdir(out / d) if f.endswith('.tmp')]
    assert leftovers == []
    assert not osp.exists(calls[-1])  # the file being written when interrupted is not there at all
    for f in os.listdir(out / 'images'):
        assert cv2.imread(str(out / 'images' / f)) is not None
    assert finished_images(str(out)) == 0
    # a killed run (SIGKILL: no cleanup) leaves a truncated temp file: the next run deletes it and says so
    (out / 'images' / 'P0000__256__0___0.png.4242.tmp').write_bytes(b'\x89PNG\r\n')
    logs = []
    split_dataset([str(scenes / 'images')], str(out), [str(scenes / 'labelTxt')], cfg, progress=False,
                  logger=logs.append)
    assert any('removed 1 partial files' in m for m in logs), logs
    _assert_matches(out, _reference(scenes, [256], [64]))
    assert finished_images(str(out)) == 3


@pytest.mark.skipif(sys.platform == 'win32', reason='POSIX signals')
def test_cli_ctrl_c_is_quiet_and_resumable(scenes, tmp_path):
    out = tmp_path / 'cli'
    cmd = [sys.executable, osp.join(REPO, 'tools/data/dota/split/img_split.py'), '--img-dirs',
           str(scenes / 'images'), '--ann-dirs', str(scenes / 'labelTxt'), '--sizes', '96', '--gaps', '16',
           '--save-dir', str(out), '--nproc', '2', '--no-progress']
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if osp.isdir(out / 'images') and os.listdir(out / 'images'):  # interrupt at the first patch
            break
        time.sleep(0.05)
    if proc.poll() is not None:
        pytest.skip('the split finished before it could be interrupted (very fast machine)')
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        # it finished between the poll and the signal (seen on a fast CI machine): nothing was interrupted
        pytest.skip('the split finished before the signal arrived (very fast machine)')
    assert proc.returncode == 130, err
    assert 'Traceback' not in err and 'KeyboardInterrupt' not in err, err
    assert 'Run the same command again to resume' in err
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert finished_images(str(out)) == 3
    _assert_matches(out, _reference(scenes, [96], [16]))
