"""Split large DOTA scenes into overlapping patches, as mmrotate 1.x's ``img_split.py`` does.

Behaviour kept identical to mmrotate 1.x (``tools/data/dota/split/img_split.py``) so that split
folders, patch names and downstream configs are interchangeable:

* windows per (size, gap): ``step = size - gap``; ``n = 1 if side <= size else
  ceil((side - size) / step + 1)``; starts ``step * i``; the last start snaps to ``side - size``
  when there are several windows; windows whose image-area / window-area ``<= img_rate_thr``
  are dropped (if none passes, the best ones within 0.01 are kept).
* multi-scale ``rates`` only change the window: ``size / rate``, ``gap / rate`` (int), windows
  are cut from the unscaled image and saved unscaled (the training pipeline resizes them).
* an object goes to a window when IoF(polygon, window) = area(poly ∩ window) / area(poly) is
  ``>= iof_thr``; its polygon is translated into patch coordinates, not clipped; objects with
  IoF < 1 are written with difficulty ``2``.
* windows extending past the image are padded with ``padding_value`` unless ``no_padding``.
* output ``SAVE_DIR/images/{id}__{size}__{x}___{y}{ext}`` and ``SAVE_DIR/annfiles/{same}.txt``
  (DOTA lines without header); image-only mode when there are no annotation dirs.

Differences (documented improvements): a re-run skips images that were finished (a marker per
image in ``SAVE_DIR/.split_done``) instead of refusing an existing ``save_dir``; a final summary
counts images, patches, objects in / written / truncated and objects *lost* (IoF below
``iof_thr`` for every window); malformed annotation lines raise with ``file:line``; optional
DOTA_devkit-style ``rescale=True`` resizes the image by ``rate`` and names patches with the rate
token (``P0000__0.5__0___0``, see :mod:`rotated_ld.datasets.dota_patch_name`).

Files are written temp + rename (:func:`write_atomic`: a kill leaves no truncated patch, label or
marker; the next run deletes leftover ``*.tmp`` files), PNG patches are stored uncompressed by
default (:func:`png_params`, measured choice) and an object entirely inside a window keeps its
difficulty (IoF exactly 1; mmrotate's float32 area can give 0.99999994 and difficulty 2).
"""
from __future__ import annotations

import contextlib
import json
import os
import os.path as osp
import signal
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, fields
from math import ceil
from multiprocessing import get_context

import cv2
import numpy as np
import shapely
from tqdm import tqdm

from ..dota_patch_name import format_patch_name
from ..dota_txt import format_dota_line, parse_dota_txt
from ..file_types import IMG_EXTS

_DONE = '.split_done'
_TMP = '.tmp'  # suffix of files being written (never an image or .txt extension: no reader picks them up)


def png_params(level: int) -> list[int]:
    """OpenCV PNG params for zlib ``level`` (``-1``: OpenCV's defaults).

    Measured in ``benchmarks/bench_split.py`` (OpenCV 5.1, 1024² patches of textured scenes, CPU
    ms per patch / MB): OpenCV's default (level 1, RLE strategy, SUB filter) ~49 ms / 1.47 MB; any
    compressing zlib setting costs 48-80 ms (Huffman coding dominates: level 1 with the default
    strategy 81 ms / 1.25 MB); level 0 with OpenCV's filter 37 ms / 3.15 MB; level 0 *without*
    filter ~6 ms / 3.15 MB. The split default is level 0 without filter ("stored" PNG): the split
    runs ~2× faster and training decodes the patches faster, at ~2.1× the disk space of OpenCV's
    default; ``png_compression=-1`` (``--png-compression -1``) gives the small files. Pixels are
    identical for every setting (PNG is lossless).
    """
    if level < 0:
        return []
    params = [cv2.IMWRITE_PNG_COMPRESSION, int(level)]
    if level == 0:  # filtering only helps compression; with stored blocks it is pure cost
        params += [cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_NONE]
    return params


def write_atomic(path: str, data) -> None:
    """Write ``data`` (bytes or str) to ``path`` via a temp file + rename: a kill leaves the old file
    or the new one, never a truncated one (a stale ``*.tmp`` at worst, removed by the next run)."""
    tmp = f'{path}.{os.getpid()}{_TMP}'
    try:
        with open(tmp, 'wb') as f:
            f.write(data.encode('utf-8') if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:  # incl. KeyboardInterrupt: no temp file left behind
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


@dataclass
class SplitConfig:
    """Parameters of a split run (mmrotate's flags)."""
    sizes: tuple = (1024,)
    gaps: tuple = (200,)
    rates: tuple = (1.0,)
    img_rate_thr: float = 0.6
    iof_thr: float = 0.7
    no_padding: bool = False
    padding_value: tuple = (104, 116, 124)
    save_ext: str = '.png'
    rescale: bool = False
    png_compression: int = 0  # 0 = stored (see png_params); 1-9 zlib levels; -1 = OpenCV's default

    # keys that do not change the content of a split (pixels, names, labels): a re-run may change them
    OUTPUT_NEUTRAL = ('png_compression',)

    def __post_init__(self):
        self.sizes = tuple(int(s) for s in self.sizes)
        self.gaps = tuple(int(g) for g in self.gaps)
        self.rates = tuple(float(r) for r in self.rates)
        self.padding_value = tuple(int(v) for v in np.atleast_1d(self.padding_value))
        if not self.save_ext.startswith('.'):
            self.save_ext = '.' + self.save_ext
        if len(self.sizes) != len(self.gaps):
            raise ValueError(f'sizes {self.sizes} and gaps {self.gaps} must have the same length')
        if len(self.sizes) > 1 and len(self.rates) > 1:
            raise ValueError('give several sizes or several rates, not both (as mmrotate)')
        for s, g in zip(self.sizes, self.gaps):
            if not 0 <= g < s:
                raise ValueError(f'gap {g} must be in [0, size {s})')
        if not 0 <= self.iof_thr <= 1:
            raise ValueError(f'iof_thr={self.iof_thr}; expected 0 <= iof_thr <= 1')
        if any(r <= 0 for r in self.rates):
            raise ValueError(f'rates {self.rates} must be > 0')
        if self.save_ext.lower() not in IMG_EXTS:
            raise ValueError(f'save_ext={self.save_ext!r}; expected one of {IMG_EXTS}')
        if not -1 <= int(self.png_compression) <= 9:
            raise ValueError(f'png_compression={self.png_compression}; expected -1 (OpenCV default) or 0-9')

    def imwrite_params(self) -> list[int]:
        """``cv2.imencode`` params for the patches (PNG only; other formats use OpenCV's defaults)."""
        if self.save_ext.lower() != '.png':
            return []
        return png_params(self.png_compression)

    def scales(self):
        """[(rate, window sizes, window gaps)] in the pixels of the image that gets cut."""
        if self.rescale:
            return [(r, list(self.sizes), list(self.gaps)) for r in self.rates]
        sizes, gaps = [], []
        for r in self.rates:  # mmrotate: one pass over the unscaled image with all window sizes
            sizes += [int(s / r) for s in self.sizes]
            gaps += [int(g / r) for g in self.gaps]
        return [(1.0, sizes, gaps)]


def get_sliding_windows(width: int, height: int, sizes, gaps, img_rate_thr: float = 0.6) -> np.ndarray:
    """Windows ``(K, 4)`` int64 ``x_start, y_start, x_stop, y_stop`` placed exactly as mmrotate 1.x."""
    eps = 0.01
    windows = []
    for size, gap in zip(sizes, gaps):
        if size <= gap:
            raise ValueError(f'invalid size/gap pair [{size} {gap}]')
        step = size - gap
        starts = []
        for side in (width, height):
            num = 1 if side <= size else ceil((side - size) / step + 1)
            st = [step * i for i in range(num)]
            if len(st) > 1 and st[-1] + size > side:
                st[-1] = side - size
            starts.append(st)
        xs, ys = np.meshgrid(starts[0], starts[1], indexing='ij')  # x-major order, as itertools.product
        start = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.int64)
        windows.append(np.concatenate([start, start + size], 1))
    windows = np.concatenate(windows, 0)
    inside = windows.copy()
    inside[:, 0::2] = np.clip(inside[:, 0::2], 0, width)
    inside[:, 1::2] = np.clip(inside[:, 1::2], 0, height)
    img_areas = (inside[:, 2] - inside[:, 0]) * (inside[:, 3] - inside[:, 1])
    win_areas = (windows[:, 2] - windows[:, 0]) * (windows[:, 3] - windows[:, 1])
    rates = img_areas / win_areas
    if not (rates > img_rate_thr).any():
        rates[np.abs(rates - rates.max()) < eps] = 1
    return windows[rates > img_rate_thr]


def polys_window_iof(polys: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """IoF ``(N, K)``: area(polygon_i ∩ window_k) / area(polygon_i), polygons (N, 8), windows (K, 4).

    Vectorised: pairs whose polygon bounding box lies inside the window are 1 without geometry,
    disjoint pairs 0; only border-crossing pairs go through shapely (made valid first).
    """
    n, k = len(polys), len(windows)
    if n * k == 0:
        return np.zeros((n, k), np.float64)
    pts = polys.reshape(n, 4, 2)
    lo, hi = pts.min(1), pts.max(1)  # (N, 2)
    w = windows.astype(np.float64)
    inter_lo = np.maximum(lo[:, None], w[None, :, :2])
    inter_hi = np.minimum(hi[:, None], w[None, :, 2:])
    overlap = (inter_hi > inter_lo).all(-1)
    contained = ((lo[:, None] >= w[None, :, :2]) & (hi[:, None] <= w[None, :, 2:])).all(-1)
    iof = contained.astype(np.float64)
    ii, kk = np.nonzero(overlap & ~contained)
    if len(ii):
        geoms = shapely.make_valid(shapely.polygons(pts))
        areas = np.maximum(shapely.area(geoms), 1e-6)
        boxes = shapely.box(w[:, 0], w[:, 1], w[:, 2], w[:, 3])
        inter = shapely.area(shapely.intersection(geoms[ii], boxes[kk]))
        iof[ii, kk] = np.minimum(inter / areas[ii], 1.0)
    return iof


@dataclass
class SplitStats:
    """Counts of one split run (summed over images).

    Balance (every source object accounted for once): ``objects_in == objects_whole +
    objects_partial + lost``, where ``objects_whole`` lie entirely inside at least one window,
    ``objects_partial`` only partly (best IoF in ``[iof_thr, 1)``: written with difficulty 2)
    and ``lost`` have IoF < ``iof_thr`` with every window (``lost_outside``: IoF 0, the polygon
    lies outside the image). ``objects_out`` counts written lines: an object in the overlap of
    several windows is written once per window, so ``objects_out >= objects_whole +
    objects_partial``. Label files of ``ann_dirs`` without an image are not split; they and
    their objects are counted in ``labels_without_image`` / ``objects_without_image``; images
    without a label file (treated as empty) in ``missing_labels``.
    """
    images: int = 0
    skipped_images: int = 0
    patches: int = 0
    objects_in: int = 0
    objects_out: int = 0
    truncated_out: int = 0
    objects_whole: int = 0
    objects_partial: int = 0
    lost: int = 0
    lost_outside: int = 0
    missing_labels: int = 0
    labels_without_image: int = 0
    objects_without_image: int = 0
    lost_objects: list = field(default_factory=list)  # 'image:index class' of lost objects (first 50)

    def add(self, other: SplitStats) -> None:
        for f in fields(self):
            if f.name != 'lost_objects':  # every other field is a count
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        self.lost_objects = (self.lost_objects + other.lost_objects)[:50]

    @property
    def balanced(self) -> bool:
        """``objects_in == objects_whole + objects_partial + lost``."""
        return self.objects_in == self.objects_whole + self.objects_partial + self.lost

    def summary(self) -> str:
        s = (f'split summary: images {self.images} (already done, skipped: {self.skipped_images}), '
             f'patches {self.patches}, objects in {self.objects_in} = whole in a patch {self.objects_whole} '
             f'+ partly in a patch {self.objects_partial} + lost {self.lost} (IoF < iof_thr in every window; '
             f'{self.lost_outside} of them outside the image){"" if self.balanced else " [UNBALANCED]"}; '
             f'lines written {self.objects_out} (truncated, difficulty 2: {self.truncated_out})')
        if self.missing_labels:
            s += f'; images without a label file (treated as empty): {self.missing_labels}'
        if self.labels_without_image:
            s += (f'; label files without an image (not split): {self.labels_without_image} '
                  f'with {self.objects_without_image} objects')
        return s


def image_file_problem(path: str) -> str | None:
    """Why ``path`` is not a complete image file, from its size and last bytes (no decode), or None.

    Catches what ``cv2.imread`` lets through: a truncated JPEG decodes with a grey bottom and only
    a libjpeg warning on stderr ("Premature end of JPEG file"), so a JPEG must end with its
    end-of-image marker ``FF D9`` (up to 64 bytes of trailing padding allowed).
    """
    size = osp.getsize(path)
    if size == 0:
        return 'empty file'
    with open(path, 'rb') as f:
        head = f.read(3)
        f.seek(max(0, size - 66))
        tail = f.read()
    if head == b'\xff\xd8\xff' and b'\xff\xd9' not in tail:
        return 'truncated JPEG (no end-of-image marker FF D9 at the end of the file)'
    return None


def _pad(patch: np.ndarray, h: int, w: int, value) -> np.ndarray:
    if patch.shape[0] == h and patch.shape[1] == w:
        return patch
    out = np.empty((h, w) + patch.shape[2:], patch.dtype)
    out[...] = value if patch.ndim == 3 and len(value) == patch.shape[2] else value[0]
    out[:patch.shape[0], :patch.shape[1]] = patch
    return out


def split_image(img_path: str, ann_path: str | None, save_dir: str, cfg: SplitConfig) -> SplitStats:
    """Split one image (and its labelTxt when ``ann_path`` is given) into ``save_dir``.

    Skips the image when its done-marker exists (returns the stored stats with
    ``skipped_images=1``). Patches are written first, the marker last.
    """
    img_id = osp.splitext(osp.basename(img_path))[0]
    marker = osp.join(save_dir, _DONE, img_id + '.json')
    if osp.exists(marker):
        with open(marker) as f:
            stats = SplitStats(**json.load(f))
        if stats.balanced:  # markers of older versions lack the balance counts: split that image again
            stats.images, stats.skipped_images = 1, 1
            return stats
    problem = image_file_problem(img_path)
    if problem:
        raise OSError(f'cannot read image {img_path}: {problem}')
    img = cv2.imread(img_path, cv2.IMREAD_COLOR)
    if img is None:
        raise OSError(f'cannot read image {img_path} (empty, truncated or not an image OpenCV can decode)')
    if ann_path is not None:
        if osp.isfile(ann_path):
            ann = parse_dota_txt(ann_path)
            polys, labels, diffs = ann.polys, ann.labels, ann.difficulties
        else:
            print(f"Can't find {ann_path}, treated as an empty annotation file")
            polys, labels, diffs = np.zeros((0, 8)), [], np.zeros((0,), np.int64)
    stats = SplitStats(images=1, objects_in=len(polys) if ann_path is not None else 0,
                       missing_labels=int(ann_path is not None and not osp.isfile(ann_path)))
    img_dir, ann_dir = osp.join(save_dir, 'images'), osp.join(save_dir, 'annfiles')
    params = cfg.imwrite_params()
    best_iof = np.zeros(stats.objects_in)
    for rate, sizes, gaps in cfg.scales():
        if rate != 1.0:  # DOTA_devkit style: resize the whole image, scale the polygons
            image = cv2.resize(img, None, fx=rate, fy=rate, interpolation=cv2.INTER_CUBIC)
            r_polys = polys * rate if ann_path is not None else None
        else:
            image, r_polys = img, (polys if ann_path is not None else None)
        H, W = image.shape[:2]
        windows = get_sliding_windows(W, H, sizes, gaps, cfg.img_rate_thr)
        iofs = polys_window_iof(r_polys, windows) if ann_path is not None else None
        if iofs is not None and iofs.size:
            best_iof = np.maximum(best_iof, iofs.max(1))
        for k, (x0, y0, x1, y1) in enumerate(windows.tolist()):
            name = format_patch_name(img_id, x0, y0, size=x1 - x0, rate=rate)
            patch = image[y0:y1, x0:x1]
            if not cfg.no_padding:
                patch = _pad(patch, y1 - y0, x1 - x0, cfg.padding_value)
            ok, buf = cv2.imencode(cfg.save_ext, patch, params)
            if not ok:
                raise OSError(f'cannot encode {name + cfg.save_ext}')
            write_atomic(osp.join(img_dir, name + cfg.save_ext), buf)  # image first: a label never lacks it
            stats.patches += 1
            if ann_path is None:
                continue
            inds = np.nonzero(iofs[:, k] >= cfg.iof_thr)[0]
            lines = []
            for i in inds:
                trunc = iofs[i, k] < 1
                poly = r_polys[i] - np.array([x0, y0] * 4, np.float64)
                lines.append(format_dota_line(poly, labels[i], 2 if trunc else diffs[i]))
                stats.truncated_out += int(trunc)
            stats.objects_out += len(lines)
            write_atomic(osp.join(ann_dir, name + '.txt'), ''.join(line + '\n' for line in lines))
    if ann_path is not None:
        lost = np.nonzero(best_iof < cfg.iof_thr)[0]
        stats.lost = len(lost)
        stats.lost_outside = int((best_iof[lost] <= 0).sum())
        stats.objects_whole = int((best_iof >= 1).sum())
        stats.objects_partial = stats.objects_in - stats.objects_whole - stats.lost
        stats.lost_objects = [f'{img_id}:{i} {labels[i]} (best IoF {best_iof[i]:.2f})' for i in lost[:50]]
    write_atomic(marker, json.dumps(asdict(stats)))  # last: marks the image finished
    return stats


def _worker(job):
    return split_image(*job)


def _ignore_sigint() -> None:
    """Pool initializer: Ctrl-C goes to the parent only, which terminates the pool (no worker tracebacks)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def remove_stale_temp_files(save_dir: str) -> int:
    """Delete the ``*.tmp`` files a killed run left in ``save_dir``'s output folders; returns their count."""
    n = 0
    for sub in ('images', 'annfiles', _DONE):
        d = osp.join(save_dir, sub)
        if osp.isdir(d):
            for f in os.listdir(d):
                if f.endswith(_TMP):
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(osp.join(d, f))
                        n += 1
    return n


def finished_images(save_dir: str) -> int:
    """Number of images whose done-marker exists in ``save_dir`` (what a re-run skips)."""
    d = osp.join(save_dir, _DONE)
    return sum(f.endswith('.json') and f != 'config.json' for f in os.listdir(d)) if osp.isdir(d) else 0


def list_images(img_dir: str) -> list[str]:
    if not osp.isdir(img_dir):
        raise FileNotFoundError(f'image dir {img_dir!r} does not exist')
    return sorted(f for f in os.listdir(img_dir) if osp.splitext(f)[1].lower() in IMG_EXTS)


def split_dataset(img_dirs, save_dir: str, ann_dirs=None, cfg: SplitConfig | None = None,
                  nproc: int = 1, progress: bool = True, logger=print) -> SplitStats:
    """Split every image of ``img_dirs`` (annotations from the matching ``ann_dirs``) into ``save_dir``.

    Args:
        img_dirs (list[str]): folders of large images.
        save_dir (str): output root; ``images/`` and ``annfiles/`` are created (annfiles only
            with annotations).
        ann_dirs (list[str] | None): labelTxt folders, same length as ``img_dirs``; None for
            image-only mode (unlabelled test sets).
        cfg (SplitConfig): split parameters (defaults: ss 1024 / 200 / rate 1).
        nproc (int): worker processes.
        progress (bool): tqdm progress bar.

    Returns:
        SplitStats: totals; also written to ``save_dir/split_summary.json``.
    """
    cfg = cfg or SplitConfig()
    if isinstance(img_dirs, str):
        img_dirs = [img_dirs]
    if isinstance(ann_dirs, str):
        ann_dirs = [ann_dirs]
    if ann_dirs is not None and len(ann_dirs) != len(img_dirs):
        raise ValueError(f'{len(img_dirs)} img_dirs but {len(ann_dirs)} ann_dirs')
    os.makedirs(osp.join(save_dir, 'images'), exist_ok=True)
    if ann_dirs is not None:
        os.makedirs(osp.join(save_dir, 'annfiles'), exist_ok=True)
    os.makedirs(osp.join(save_dir, _DONE), exist_ok=True)
    stale = remove_stale_temp_files(save_dir)
    if stale and logger is not None:
        logger(f'removed {stale} partial files (*{_TMP}) left by an interrupted run in {save_dir}')
    cfg_path = osp.join(save_dir, _DONE, 'config.json')
    cfg_dict = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(cfg).items()
                if k not in SplitConfig.OUTPUT_NEUTRAL}
    cfg_dict['with_annotations'] = ann_dirs is not None
    if osp.exists(cfg_path):
        with open(cfg_path) as f:
            old = json.load(f)
        if old != cfg_dict:
            raise ValueError(f'{save_dir} holds a split made with other parameters {old}; '
                             f'now {cfg_dict}. Use another --save-dir or delete it.')
    else:
        write_atomic(cfg_path, json.dumps(cfg_dict))
    jobs, seen = [], {}
    for d, img_dir in enumerate(img_dirs):
        for fname in list_images(img_dir):
            img_id = osp.splitext(fname)[0]
            if img_id in seen:
                raise ValueError(f'image id {img_id!r} appears in {seen[img_id]} and {img_dir}')
            seen[img_id] = img_dir
            ann = None if ann_dirs is None else osp.join(ann_dirs[d], img_id + '.txt')
            jobs.append((osp.join(img_dir, fname), ann, save_dir, cfg))
    total = SplitStats()
    for d, ann_dir in enumerate(ann_dirs or []):  # labels whose image is missing: counted, not split
        if not osp.isdir(ann_dir):
            raise FileNotFoundError(f'annotation dir {ann_dir!r} does not exist')
        for fname in sorted(os.listdir(ann_dir)):
            if fname.endswith('.txt') and seen.get(fname[:-4]) != img_dirs[d]:
                total.labels_without_image += 1
                total.objects_without_image += len(parse_dota_txt(osp.join(ann_dir, fname), strict=False).polys)
    t0 = time.time()
    bar = None
    if progress:
        bar = tqdm(total=len(jobs), desc='splitting', unit='img')
    if nproc > 1 and len(jobs) > 1:
        # largest images first, one per task: the last task is a small one, so workers finish together
        jobs.sort(key=lambda j: -osp.getsize(j[0]))
        ctx = get_context('fork' if hasattr(os, 'fork') else 'spawn')
        # ProcessPoolExecutor, not multiprocessing.Pool: Pool.terminate() after a worker error could hang
        # forever (seen in CI: workers gone, parent blocked on a handler thread); the executor reports a
        # dead worker as BrokenProcessPool. On an error or Ctrl-C the queued images are cancelled and the
        # ones in progress finish (each writes atomically, so a re-run resumes after them).
        with ProcessPoolExecutor(min(nproc, len(jobs)), mp_context=ctx, initializer=_ignore_sigint) as pool:
            futures = [pool.submit(_worker, job) for job in jobs]
            try:
                for fut in as_completed(futures):
                    total.add(fut.result())
                    bar is not None and bar.update(1)
            except BaseException:
                for fut in futures:
                    fut.cancel()
                raise
    else:
        for job in jobs:
            total.add(_worker(job))
            bar is not None and bar.update(1)
    if bar is not None:
        bar.close()
    elapsed = time.time() - t0
    write_atomic(osp.join(save_dir, 'split_summary.json'),
                 json.dumps(dict(asdict(total), balanced=total.balanced, seconds=elapsed), indent=1))
    if logger is not None:
        logger(total.summary() + f' [{elapsed:.1f} s]')
        if total.lost:
            logger('lost objects (first 50): ' + '; '.join(total.lost_objects))
        if total.labels_without_image:
            logger(f'warning: {total.labels_without_image} label files of {ann_dirs} have no image in {img_dirs}')
    return total
