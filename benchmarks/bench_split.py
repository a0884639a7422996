"""DOTA image split: rotated_ld vs mmrotate 1.x's ``img_split.py`` on the same images, same run.

mmrotate cannot be installed here (it needs mmcv), so ``mmrotate_split`` below re-implements the
path of ``tools/data/dota/split/img_split.py`` (mmrotate 1.x) operation by operation: image sizes
read with PIL, labelTxt read by ``line.split(' ')``, windows from ``itertools.product``, IoF as
one shapely ``intersection`` per (object, window) pair whose boxes overlap, ``cv2.imread`` of the
scene, ``cv2.imwrite`` of each patch with OpenCV's default PNG settings, one annfile per patch
written through ``codecs.open`` with ``str(float32)`` coordinates. Only the logging and the
``patch_infos`` dicts it returns are left out (not on the timed path of what lands on disk).

Printed, all measured in this run:

1. **PNG settings** for 1024² patches: CPU ms to encode, MB, CPU ms to decode (what each
   training epoch pays). Choice recorded in :func:`rotated_ld.datasets.split.png_params`: level 0
   without filter ("stored"), see the numbers below; ``--png-compression -1`` gives OpenCV's default.
2. **mmrotate vs rotated_ld at nproc 1**, single-scale (1024/200) and multi-scale (1024/500,
   rates 0.5/1.0/1.5): wall and CPU seconds, the ratio, and an output check (same patch names,
   identical decoded pixels, same label lines up to float32 rounding of the coordinates).
3. **nproc 1 -> 2** for rotated_ld on the same set: wall-clock speed-up. On a shared machine the
   1-minute load average is printed next to it: with other jobs on the cores this ratio says
   more about the load than about the code.

Numbers of the run that chose the PNG setting (OpenCV 5.1; 20 synthetic DOTA scenes of 1500-2500 px,
written as PNG; 2 cores shared with other jobs at load average 12-16, so the wall-clock ratios and
above all the 1 -> 2 process ratio are unreliable; CPU seconds are the load-independent cost)::

    PNG settings, 6 patches of 1024² (CPU time, best of 3):
      setting                          encode ms     MB decode ms  encode vs default
      opencv default (= mmrotate)           48.0   1.24      20.6              1.00x
      level 1 (previous split)              78.5   1.07      21.2              0.61x
      level 3                              110.6   1.02      19.7              0.43x
      level 0, OpenCV filter                33.0   3.15       8.5              1.45x
      RLE, filter NONE                      45.9   2.20      17.3              1.05x
      RLE, filter UP                        45.4   1.23      19.9              1.06x
      HUFFMAN_ONLY, filter SUB              50.5   1.47      20.4              0.95x
      FIXED, filter SUB                     50.9   1.46      19.5              0.94x
      level 0, filter NONE (chosen)          6.4   3.15       5.4              7.52x

    split of 20 scenes (wall s / CPU s; ratios = mmrotate time / rotated_ld time):
      setting                  patches      mmrotate   ours nproc1  x wall  x CPU   ours nproc2  1->2 x  load
      ss 1024/200                  150   79.1/  10.4   35.3/   4.0   2.24x  2.58x   25.5/   4.6   1.38x  14.9
      ms 1024/500 x0.5,1,1.5       823  307.5/  37.7  101.9/  13.2   3.02x  2.87x   81.7/  13.3   1.25x  15.9
      output: same names and pixels; labels identical except lines where mmrotate marks an object
      lying inside the window truncated (float32 IoF < 1; 1372 of 3201 lines here, almost none with the
      integer coordinates of DOTA labels: 1 of 3000 random integer quads). Disk: 206 vs 473 MB.

Every compressing zlib setting costs about the same (Huffman coding dominates), so the only large
saving is not compressing: level 0 without the row filter. It also makes each training epoch's
patch decoding ~4x cheaper; the price is ~2.1x the disk space (``--png-compression -1`` for
OpenCV's default).

Usage::

    python benchmarks/bench_split.py                       # 20 scenes of 1500-2500 px
    python benchmarks/bench_split.py --scenes 8 --min-size 3000 --max-size 4000
"""
from __future__ import annotations

import argparse
import codecs
import itertools
import os
import os.path as osp
import resource
import shutil
import sys
import tempfile
import time
from math import ceil

import cv2
import numpy as np

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))

from rotated_ld.datasets.split import SplitConfig, png_params, split_dataset  # noqa: E402
from rotated_ld.datasets.synthetic import make_dota_scenes  # noqa: E402


def _cpu() -> float:
    """CPU seconds of this process and its finished children (load-independent cost)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


# ---------------------------------------------------------------- mmrotate 1.x baseline (nproc 1)

def _mm_windows(width, height, sizes, gaps, img_rate_thr):
    windows = []
    for size, gap in zip(sizes, gaps):
        step = size - gap
        starts = []
        for side in (width, height):
            n = 1 if side <= size else ceil((side - size) / step + 1)
            st = [step * i for i in range(n)]
            if len(st) > 1 and st[-1] + size > side:
                st[-1] = side - size
            starts.append(st)
        start = np.array(list(itertools.product(*starts)), dtype=np.int64)
        windows.append(np.concatenate([start, start + size], axis=1))
    windows = np.concatenate(windows, axis=0)
    inside = windows.copy()
    inside[:, 0::2] = np.clip(inside[:, 0::2], 0, width)
    inside[:, 1::2] = np.clip(inside[:, 1::2], 0, height)
    rates = ((inside[:, 2] - inside[:, 0]) * (inside[:, 3] - inside[:, 1])
             / ((windows[:, 2] - windows[:, 0]) * (windows[:, 3] - windows[:, 1])))
    if not (rates > img_rate_thr).any():
        rates[abs(rates - rates.max()) < 0.01] = 1
    return windows[rates > img_rate_thr]


def _mm_iof(polys, windows, eps=1e-6):
    import shapely.geometry as shgeo

    rows, cols = len(polys), len(windows)
    if rows * cols == 0:
        return np.zeros((rows, cols), np.float32)
    pts = polys.reshape(rows, -1, 2)
    hb = np.concatenate([pts.min(1), pts.max(1)], -1)[:, None, :]
    wh = np.clip(np.minimum(hb[..., 2:], windows[..., 2:]) - np.maximum(hb[..., :2], windows[..., :2]), 0, np.inf)
    h_overlaps = wh[..., 0] * wh[..., 1]
    l, t, r, b = (windows[..., i] for i in range(4))
    wpolys = np.stack([l, t, r, t, r, b, l, b], axis=-1).reshape(cols, -1, 2)
    sg1 = [shgeo.Polygon(p) for p in pts]
    sg2 = [shgeo.Polygon(p) for p in wpolys]
    overlaps = np.zeros(h_overlaps.shape)
    for i, k in zip(*np.nonzero(h_overlaps)):
        overlaps[i, k] = sg1[i].intersection(sg2[k]).area
    areas = np.clip(np.array([p.area for p in sg1], np.float32)[:, None], eps, np.inf)
    return overlaps / areas


def _mm_load_txt(path):
    bboxes, labels, diffs = [], [], []
    if path is not None and osp.isfile(path):
        with open(path) as f:
            for line in f:
                if line.startswith('gsd'):
                    continue
                items = line.split(' ')
                if len(items) >= 9:
                    bboxes.append([float(i) for i in items[:8]])
                    labels.append(items[8])
                    diffs.append(int(items[9]) if len(items) == 10 else 0)
    return (np.array(bboxes, np.float32) if bboxes else np.zeros((0, 8), np.float32), labels,
            np.array(diffs, np.int64) if diffs else np.zeros((0,), np.int64))


def mmrotate_split(img_dir, ann_dir, save_dir, sizes=(1024,), gaps=(200,), rates=(1.0,), img_rate_thr=0.6,
                   iof_thr=0.7, padding_value=(104, 116, 124), img_ext='.png'):
    """mmrotate 1.x ``img_split.py`` at ``--nproc 1`` (see the module docstring). Returns #patches."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None
    win_sizes, win_gaps = [], []
    for rate in rates:
        win_sizes += [int(s / rate) for s in sizes]
        win_gaps += [int(g / rate) for g in gaps]
    img_out, ann_out = osp.join(save_dir, 'images'), osp.join(save_dir, 'annfiles')
    os.makedirs(img_out)
    os.makedirs(ann_out)
    infos = []
    for fname in os.listdir(img_dir):
        img_id, ext = osp.splitext(fname)
        if ext not in ('.jpg', '.JPG', '.png', '.tif', '.bmp'):
            continue
        w, h = Image.open(osp.join(img_dir, fname)).size
        infos.append((fname, img_id, w, h, _mm_load_txt(osp.join(ann_dir, img_id + '.txt'))))
    n = 0
    for fname, img_id, width, height, (bboxes, labels, diffs) in infos:
        windows = _mm_windows(width, height, win_sizes, win_gaps, img_rate_thr)
        iofs = _mm_iof(bboxes, windows)
        img = cv2.imread(osp.join(img_dir, fname))
        for k, (x0, y0, x1, y1) in enumerate(windows.tolist()):
            pos = np.nonzero(iofs[:, k] >= iof_thr)[0].tolist()
            trunc = iofs[pos, k] < 1
            boxes = bboxes[pos] + np.array([-x0, -y0] * 4, dtype=np.float32)
            patch = img[y0:y1, x0:x1]
            if y1 - y0 > patch.shape[0] or x1 - x0 > patch.shape[1]:
                padded = np.empty((y1 - y0, x1 - x0, patch.shape[-1]), dtype=np.uint8)
                padded[...] = padding_value
                padded[:patch.shape[0], :patch.shape[1], ...] = patch
                patch = padded
            pid = f'{img_id}__{x1 - x0}__{x0}___{y0}'
            cv2.imwrite(osp.join(img_out, pid + img_ext), patch)
            with codecs.open(osp.join(ann_out, pid + '.txt'), 'w', 'utf-8') as f:
                for j, i in enumerate(pos):
                    d = '2' if trunc[j] else str(diffs[i])
                    f.write(' '.join(map(str, boxes[j])) + ' ' + labels[i] + ' ' + d + '\n')
            n += 1
    return n


# ---------------------------------------------------------------- output comparison

def compare_outputs(mm: str, ours: str, coord_tol: float = 1e-2) -> str:
    """'identical ...' or what differs between two split folders: names, decoded pixels, label lines
    (coordinates within ``coord_tol`` px: mmrotate writes float32, rotated_ld float64).

    One known difference is counted, not failed: mmrotate divides a float64 intersection area by a
    float32 polygon area, so an object lying entirely inside the window can get IoF 0.99999994 and
    be written with difficulty 2 (truncated); rotated_ld writes its own difficulty (IoF exactly 1).
    """
    names = [sorted(os.listdir(osp.join(d, 'images'))) for d in (mm, ours)]
    if names[0] != names[1]:
        return f'patch names differ ({len(names[0])} vs {len(names[1])})'
    artifacts = lines = 0
    for n in names[0]:
        pa, pb = (cv2.imread(osp.join(d, 'images', n), cv2.IMREAD_UNCHANGED) for d in (mm, ours))
        if pa.shape != pb.shape or not np.array_equal(pa, pb):
            return f'pixels differ in {n}'
        stem = osp.splitext(n)[0] + '.txt'
        size = int(stem.split('__')[1])
        la, lb = ([ln.split() for ln in open(osp.join(d, 'annfiles', stem))] for d in (mm, ours))
        if len(la) != len(lb):
            return f'{stem}: {len(la)} vs {len(lb)} objects'
        lines += len(la)
        for x, y in zip(la, lb):
            xa, ya = np.array(x[:8], float), np.array(y[:8], float)
            if np.abs(xa - ya).max() > coord_tol or x[8] != y[8]:
                return f'{stem}: object {x} vs {y}'
            if x[9] != y[9]:
                inside = ya.min() >= 0 and ya.max() <= size
                if not (x[9] == '2' and inside):
                    return f'{stem}: difficulty of {x} vs {y}'
                artifacts += 1
    return (f'identical: {len(names[0])} patch names, pixels, {lines} label lines; except {artifacts} lines '
            f'where mmrotate marks an object lying inside the window truncated (float32 IoF < 1)')


# ---------------------------------------------------------------- benchmark

def png_table(img_path: str, n_patches: int = 6) -> None:
    img = cv2.imread(img_path)
    h, w = img.shape[:2]
    rng = np.random.default_rng(0)
    xs, ys = rng.integers(0, max(1, w - 1024), n_patches), rng.integers(0, max(1, h - 1024), n_patches)
    patches = [np.ascontiguousarray(img[y:y + 1024, x:x + 1024]) for x, y in zip(xs, ys)]
    C, S, F = cv2.IMWRITE_PNG_COMPRESSION, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_FILTER
    candidates = {
        'opencv default (= mmrotate)': [],
        'level 1 (previous split)': [C, 1],
        'level 3': [C, 3],
        'level 0, OpenCV filter': [C, 0],
        'RLE, filter NONE': [S, cv2.IMWRITE_PNG_STRATEGY_RLE, F, cv2.IMWRITE_PNG_FILTER_NONE],
        'RLE, filter UP': [S, cv2.IMWRITE_PNG_STRATEGY_RLE, F, cv2.IMWRITE_PNG_FILTER_UP],
        'HUFFMAN_ONLY, filter SUB': [S, cv2.IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY, F, cv2.IMWRITE_PNG_FILTER_SUB],
        'FIXED, filter SUB': [S, cv2.IMWRITE_PNG_STRATEGY_FIXED, F, cv2.IMWRITE_PNG_FILTER_SUB],
        'level 0, filter NONE (chosen)': png_params(0),
    }
    print(f'PNG settings, {n_patches} patches of 1024² from {osp.basename(img_path)} (CPU time, best of 3):')
    print(f'  {"setting":32s} {"encode ms":>9s} {"MB":>6s} {"decode ms":>9s} {"encode vs default":>18s}')
    base = None
    for name, params in candidates.items():
        enc = dec = size = 0.0
        for p in patches:
            best_e = best_d = 1e9
            for _ in range(3):
                t = time.process_time()
                ok, buf = cv2.imencode('.png', p, params)
                best_e = min(best_e, time.process_time() - t)
                t = time.process_time()
                back = cv2.imdecode(buf, cv2.IMREAD_COLOR)
                best_d = min(best_d, time.process_time() - t)
            assert np.array_equal(back, p)  # lossless whatever the setting
            enc, dec, size = enc + best_e, dec + best_d, size + len(buf)
        enc, dec, size = 1000 * enc / len(patches), 1000 * dec / len(patches), size / len(patches) / 1e6
        base = base or enc
        print(f'  {name:32s} {enc:9.1f} {size:6.2f} {dec:9.1f} {base / enc:17.2f}x')


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--scenes', type=int, default=20)
    p.add_argument('--min-size', type=int, default=1500)
    p.add_argument('--max-size', type=int, default=2500)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--skip-ms', action='store_true', help='single-scale only')
    p.add_argument('--workdir', default=None, help='scratch folder (default: a temp dir, removed after)')
    args = p.parse_args(argv)
    work = args.workdir or tempfile.mkdtemp(prefix='bench_split_')
    try:
        t = time.perf_counter()
        scenes = osp.join(work, 'scenes')
        make_dota_scenes(scenes, num=args.scenes, size_range=(args.min_size, args.max_size), seed=args.seed)
        print(f'generate: {args.scenes} scenes of {args.min_size}-{args.max_size} px in '
              f'{time.perf_counter() - t:.1f} s; OpenCV {cv2.__version__}; load avg {os.getloadavg()[0]:.1f}')
        img_dir, ann_dir = osp.join(scenes, 'images'), osp.join(scenes, 'labelTxt')
        png_table(osp.join(img_dir, sorted(os.listdir(img_dir))[0]))
        settings = [('ss 1024/200', dict(sizes=[1024], gaps=[200], rates=[1.0]))]
        if not args.skip_ms:
            settings.append(('ms 1024/500 x0.5,1,1.5', dict(sizes=[1024], gaps=[500], rates=[0.5, 1.0, 1.5])))
        rows = []
        for label, kw in settings:
            out_mm = osp.join(work, 'mm')
            c, t = _cpu(), time.perf_counter()
            n_mm = mmrotate_split(img_dir, ann_dir, out_mm, **kw)
            wall_mm, cpu_mm = time.perf_counter() - t, _cpu() - c
            res = {}
            for nproc in (1, 2):
                out = osp.join(work, f'ours{nproc}')
                c, t = _cpu(), time.perf_counter()
                st = split_dataset([img_dir], out, [ann_dir], SplitConfig(**kw), nproc=nproc, progress=False,
                                   logger=None)
                res[nproc] = (time.perf_counter() - t, _cpu() - c, st.patches, os.getloadavg()[0])
            same = compare_outputs(out_mm, osp.join(work, 'ours1'))
            same2 = compare_outputs(osp.join(work, 'ours1'), osp.join(work, 'ours2')).split(';')[0]
            du = [sum(osp.getsize(osp.join(d, 'images', f)) for f in os.listdir(osp.join(d, 'images'))) / 1e6
                  for d in (out_mm, osp.join(work, 'ours1'))]
            rows.append((label, n_mm, wall_mm, cpu_mm, res, same, same2, du))
            for d in (out_mm, osp.join(work, 'ours1'), osp.join(work, 'ours2')):
                shutil.rmtree(d)
        print(f'\nsplit of {args.scenes} scenes (wall s / CPU s; ratios = mmrotate time / rotated_ld time):')
        print(f'  {"setting":24s} {"patches":>7s} {"mmrotate":>13s} {"ours nproc1":>13s} {"x wall":>7s} '
              f'{"x CPU":>6s} {"ours nproc2":>13s} {"1->2 x":>7s} {"load":>5s} {"MB mm / ours":>14s}')
        for label, n_mm, wall_mm, cpu_mm, res, same, same2, du in rows:
            w1, c1, n1, _ = res[1]
            w2, c2, n2, load = res[2]
            print(f'  {label:24s} {n1:7d} {wall_mm:6.1f}/{cpu_mm:6.1f} {w1:6.1f}/{c1:6.1f} {wall_mm / w1:6.2f}x '
                  f'{cpu_mm / c1:5.2f}x {w2:6.1f}/{c2:6.1f} {w1 / w2:6.2f}x {load:5.1f} {du[0]:6.0f} / {du[1]:5.0f}')
            print(f'    output mmrotate vs ours: {same}; ours nproc 1 vs 2: {same2}')
            assert n_mm == n1 == n2
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
