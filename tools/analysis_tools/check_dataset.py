"""Check DOTA-format labels before training: parse errors, degenerate and out-of-image boxes,
angle / size / class distributions, and a histogram PNG.

Input: a config (its train/val/test datasets' label folders, classes and image folders) or a
folder: a split folder with ``labelTxt/`` or ``annfiles/`` (+ ``images/``), or a label folder.

Labels are read by the dataset's and the split tool's own parser (``parse_dota_txt``: its UTF-8
decoding, header lines and field rules) and images are decoded as the split tool decodes them, so
"OK: no errors" means the dataset class and the split tool accept the data.

Reported, each problem as ``file:line`` (first --show per kind, then a count):
  errors    encoding (not UTF-8, e.g. a latin-1 file), field_count (a BOM before ``imagesource:``
            lands here, as in the dataset), non_numeric, out_of_range, unknown_class (class list
            known), zero_area (area < --min-area px²: zero / negative size, repeated or collinear
            corners), self_intersecting (bow-tie corner order), missing_image (label file without
            image), unreadable_image (empty, truncated or undecodable image)
  warnings  outside_image (a corner beyond the image by > --tol px), fully_outside (no part of
            the box in the image), unlabelled_image
  stats     objects per class (and images per class), difficulty counts, angle (le90, degrees)
            and size (sqrt(w*h) of the min-area rectangle, px) distributions, empty label files
Exit code 0 without errors, 2 with errors or on usage errors (docs/tools.md).

Examples:
    python tools/analysis_tools/check_dataset.py data/DOTA/train                  # labelTxt/ + images/
    python tools/analysis_tools/check_dataset.py configs/rotated_ld/CFG.py --split train val --out-dir check/
    python tools/analysis_tools/check_dataset.py data/mine/labelTxt --img-dir data/mine/images --classes a,b
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import os.path as osp
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))  # run from a checkout

from rotated_ld.datasets.converters.common import find_image  # noqa: E402
from rotated_ld.datasets.dota_txt import DOTAFormatError, parse_dota_txt  # noqa: E402
from rotated_ld.datasets.file_types import IMG_EXTS  # noqa: E402
from rotated_ld.utils.cli import InputError, add_debug_flag, cli_main  # noqa: E402  (torch-free)

ERROR_KINDS = ('encoding', 'field_count', 'non_numeric', 'out_of_range', 'unknown_class', 'zero_area',
               'self_intersecting', 'missing_image', 'unreadable_image')
WARNING_KINDS = ('outside_image', 'fully_outside', 'unlabelled_image')


@dataclass
class Source:
    """One label folder to check."""
    name: str
    label_dir: str
    img_dir: str | None = None
    classes: tuple | None = None


@dataclass
class CheckResult:
    """Problems (kind -> ['file:line: text']) and statistics of one label folder."""
    source: Source
    problems: dict = field(default_factory=lambda: defaultdict(list))
    files: int = 0
    empty_files: int = 0
    objects: int = 0
    class_objects: Counter = field(default_factory=Counter)
    class_images: Counter = field(default_factory=Counter)
    difficulty: Counter = field(default_factory=Counter)
    angles: list = field(default_factory=list)  # degrees, le90
    sizes: list = field(default_factory=list)   # sqrt(w * h) px

    @property
    def num_errors(self) -> int:
        """Problems of every kind that is not a warning (parser kinds added later count too)."""
        return sum(len(v) for k, v in self.problems.items() if k not in WARNING_KINDS)

    def first_error(self) -> str:
        """``kind at file[:line]`` of the first error, for the one-line verdict on stderr."""
        for kind, items in self.problems.items():
            if kind not in WARNING_KINDS and items:
                return f'{kind} at {items[0].split(": ")[0]}'
        return '-'

    def add(self, kind: str, where: str, text: str = '') -> None:
        self.problems[kind].append(f'{where}: {text}' if text else where)

    def summary(self) -> dict:
        a, s = np.asarray(self.angles), np.asarray(self.sizes)
        return dict(source=self.source.name, label_dir=self.source.label_dir, files=self.files,
                    empty_files=self.empty_files, objects=self.objects, errors=self.num_errors,
                    problems={k: len(v) for k, v in self.problems.items()},
                    classes={c: [self.class_objects[c], self.class_images[c]] for c in self._class_order()},
                    difficulty=dict(sorted(self.difficulty.items())),
                    angle_deg=_quantiles(a), size_px=_quantiles(s))

    def _class_order(self) -> list:
        if self.source.classes:
            extra = sorted(set(self.class_objects) - set(self.source.classes))
            return list(self.source.classes) + extra
        return sorted(self.class_objects)

    def report(self, show: int = 10) -> str:
        s = self.summary()
        out = [f'== {self.source.name}: {self.source.label_dir} (images: {self.source.img_dir or "not checked"})',
               f'{self.files} label files ({self.empty_files} empty), {self.objects} objects, '
               f'difficulty {s["difficulty"]}']
        verdict = 'OK: no errors' if not self.num_errors else f'{self.num_errors} ERRORS'
        out.append(verdict + ('' if not any(k in self.problems for k in WARNING_KINDS) else ', warnings below'))
        other = sorted(set(self.problems) - set(ERROR_KINDS) - set(WARNING_KINDS))
        for kind in ERROR_KINDS + tuple(other) + WARNING_KINDS:
            items = self.problems.get(kind, [])
            if not items:
                continue
            level = 'warning' if kind in WARNING_KINDS else 'error'
            out.append(f'  {level} {kind}: {len(items)}')
            out += [f'    {it}' for it in items[:show]]
            if len(items) > show:
                out.append(f'    ... and {len(items) - show} more')
        width = max([len(c) for c in self._class_order()] + [5])
        out.append(f'  {"class":<{width}}  {"objects":>8}  {"images":>7}')
        for c in self._class_order():
            out.append(f'  {c:<{width}}  {self.class_objects[c]:>8}  {self.class_images[c]:>7}')
        for key, unit in (('angle_deg', 'deg (le90)'), ('size_px', 'px, sqrt(w*h)')):
            q = s[key]
            if q:
                out.append(f'  {key.split("_")[0]} [{unit}]: ' + ', '.join(f'{k} {v:.1f}' for k, v in q.items()))
        if self.angles:
            hist, edges = np.histogram(self.angles, bins=12, range=(-90, 90))
            out.append('  angle histogram (15 deg bins from -90): ' + ' '.join(str(int(h)) for h in hist))
        return '\n'.join(out)


def _quantiles(x: np.ndarray) -> dict:
    if x.size == 0:
        return {}
    q = np.percentile(x, [0, 5, 50, 95, 100])
    return dict(zip(('min', 'p5', 'median', 'p95', 'max'), (float(v) for v in q)))


def _segments_cross(p1, p2, p3, p4) -> np.ndarray:
    """Proper intersection of segments p1p2 and p3p4, vectorised over rows of (N, 2) arrays."""
    def orient(a, b, c):
        return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])

    d1, d2 = orient(p3, p4, p1), orient(p3, p4, p2)
    d3, d4 = orient(p1, p2, p3), orient(p1, p2, p4)
    return (d1 * d2 < 0) & (d3 * d4 < 0)


def self_intersecting(polys: np.ndarray) -> np.ndarray:
    """(N, 8) quads -> (N,) bool: opposite edges cross (bow-tie corner order)."""
    p = polys.reshape(-1, 4, 2)
    return _segments_cross(p[:, 0], p[:, 1], p[:, 2], p[:, 3]) | _segments_cross(p[:, 1], p[:, 2], p[:, 3], p[:, 0])


def decode_image(path: str) -> tuple:
    """``((W, H), None)`` or ``(None, why)``: the split tool's checks and decode (trailer check, then
    ``cv2.imread`` in colour), so a truncated PNG / JPEG is caught here as it is there."""
    import cv2

    from rotated_ld.datasets.split import image_file_problem

    problem = image_file_problem(path)
    if problem:
        return None, problem
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        return None, 'cannot be decoded (empty, truncated or not an image OpenCV can decode)'
    return (img.shape[1], img.shape[0]), None


def check_source(src: Source, min_area: float = 1.0, tol: float = 1.0, img_suffix: str | None = None) -> CheckResult:
    """Check every ``*.txt`` of ``src.label_dir`` (see module docstring)."""
    res = CheckResult(src)
    files = sorted(glob.glob(osp.join(src.label_dir, '*.txt')))
    if not files:
        raise FileNotFoundError(f'no *.txt label files in {src.label_dir!r}')
    polys, where, names = [], [], []
    sizes_by_file = {}
    for path in files:
        res.files += 1
        stem = osp.splitext(osp.basename(path))[0]
        with open(path, 'rb') as f:  # for the messages only: parse_dota_txt reads (and decodes) the file itself
            shown = f.read().decode('utf-8', 'backslashreplace').split('\n')
        # the dataset's and the split tool's parser, its encoding and header rules (min_area 0:
        # degenerate boxes are counted below as zero_area / self_intersecting)
        errors: list[DOTAFormatError] = []
        ann = parse_dota_txt(path, classes=src.classes, strict=False, min_area=0.0, errors=errors)
        for e in errors:
            res.add(e.kind, f'{path}:{e.lineno}', e.reason + ': ' + e.text.strip()[:120])
        labels_here = list(ann.labels)
        for poly, name, diff, lineno in zip(ann.polys, ann.labels, ann.difficulties.tolist(), ann.linenos.tolist()):
            polys.append(poly)
            where.append((path, lineno, stem, shown[lineno - 1].strip()[:120]))
            names.append(name)
            res.difficulty[int(diff)] += 1
        if not labels_here:
            res.empty_files += 1
        res.class_objects.update(labels_here)
        res.class_images.update(set(labels_here))
        if src.img_dir:
            img = find_image(src.img_dir, stem)
            if img is None:
                res.add('missing_image', path, f'no {stem}.* in {src.img_dir}')
            else:
                size, problem = decode_image(img)
                if problem:
                    res.add('unreadable_image', img, problem)
                else:
                    sizes_by_file[stem] = size
    res.objects = len(polys)
    if src.img_dir and osp.isdir(src.img_dir):
        stems = {osp.splitext(osp.basename(f))[0] for f in files}
        for f in sorted(os.listdir(src.img_dir)):
            s, ext = osp.splitext(f)
            if ext.lower() in IMG_EXTS and s not in stems:
                res.add('unlabelled_image', osp.join(src.img_dir, f), 'no label file')
    if not polys:
        return res
    P = np.asarray(polys, np.float64)
    x, y = P[:, 0::2], P[:, 1::2]
    area = 0.5 * np.abs((x * np.roll(y, -1, 1) - np.roll(x, -1, 1) * y).sum(1))
    bow = self_intersecting(P)
    bad = (area < min_area) | bow
    for i in np.flatnonzero(area < min_area):
        path, n, _, text = where[i]
        res.add('zero_area', f'{path}:{n}', f'area {area[i]:.3g} px² < {min_area:g}: {text}')
    for i in np.flatnonzero(bow & (area >= min_area)):
        path, n, _, text = where[i]
        res.add('self_intersecting', f'{path}:{n}', f'edges cross (bow-tie corner order): {text}')
    for i, (path, n, stem, text) in enumerate(where):
        wh = sizes_by_file.get(stem)
        if wh is None:
            continue
        W, H = wh
        if x[i].max() < 0 or y[i].max() < 0 or x[i].min() > W or y[i].min() > H:
            res.add('fully_outside', f'{path}:{n}', f'image {W}x{H}: {text}')
        elif x[i].min() < -tol or y[i].min() < -tol or x[i].max() > W + tol or y[i].max() > H + tol:
            res.add('outside_image', f'{path}:{n}', f'image {W}x{H}: {text}')
    good = P[~bad]
    if len(good):
        from rotated_ld.structures.bbox import poly2rbox

        rb = poly2rbox(good, 'le90')
        res.angles = np.degrees(rb[:, 4]).tolist()
        res.sizes = np.sqrt(rb[:, 2] * rb[:, 3]).tolist()
    return res


def plot(results: list, path: str) -> str:
    """Histograms of angles and sizes and a bar chart of class counts, one row per source."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(results), 3, figsize=(16, 4 * len(results)), squeeze=False)
    for row, r in zip(axes, results):
        row[0].hist(r.angles, bins=36, range=(-90, 90), color='tab:blue')
        row[0].set(title=f'{r.source.name}: angle (le90)', xlabel='degrees', ylabel='objects')
        if r.sizes:
            lo, hi = max(min(r.sizes), 1.0), max(max(r.sizes), 2.0)
            row[1].hist(r.sizes, bins=np.geomspace(lo, hi * 1.01, 30), color='tab:green')
            row[1].set_xscale('log')
        row[1].set(title=f'{r.source.name}: size sqrt(w*h)', xlabel='pixels', ylabel='objects')
        cls = r._class_order()
        row[2].barh(range(len(cls)), [r.class_objects[c] for c in cls], color='tab:orange')
        row[2].set_yticks(range(len(cls)), cls, fontsize=7)
        row[2].invert_yaxis()
        row[2].set(title=f'{r.source.name}: objects per class', xlabel='objects')
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


# ---------------------------------------------------------------------- inputs
def _dataset_cfg(ds: dict) -> dict:
    while 'dataset' in ds and 'ann_file' not in ds:  # RepeatDataset / ClassBalancedDataset wrappers
        ds = ds['dataset']
    return ds


def sources_from_config(path: str, splits, cfg_options=None) -> list:
    from rotated_ld.datasets.dota_classes import DOTA_CLASSES
    from rotated_ld.utils.setup_env import load_config

    cfg = load_config(path, cfg_options)  # upstream config names and mmdet 2.x keys as in every tool
    out, seen = [], set()
    for split in splits:
        dl = cfg.get(f'{split}_dataloader')
        if not dl:
            continue
        ds = _dataset_cfg(dict(dl['dataset']))
        root = ds.get('data_root') or ''
        ann = ds.get('ann_file') or ''
        if not ann:
            print(f'{split}: dataset without ann_file (images only); skipped')
            continue
        label_dir = ann if osp.isabs(ann) or not root else osp.join(root, ann)
        prefix = ds.get('data_prefix') or {}
        img = prefix.get('img_path', prefix.get('img', ''))
        img_dir = (img if osp.isabs(img) or not root else osp.join(root, img)) if img else None
        classes = (ds.get('metainfo') or {}).get('classes')
        if classes is None:
            classes = DOTA_CLASSES.get(ds.get('version', 'v1.0'))
        elif isinstance(classes, str):
            classes = None if classes == 'infer' else tuple(
                ln.strip() for ln in open(classes, encoding='utf-8') if ln.strip())
        key = (osp.normpath(label_dir), img_dir)
        if key in seen:
            continue
        seen.add(key)
        out.append(Source(split, label_dir, img_dir, tuple(classes) if classes else None))
    if not out:
        raise ValueError(f'{path}: no dataset with ann_file in {", ".join(f"{s}_dataloader" for s in splits)}')
    return out


def source_from_dir(path: str, img_dir: str | None, classes) -> Source:
    for sub in ('labelTxt', 'annfiles'):
        if osp.isdir(osp.join(path, sub)):
            img = img_dir or (osp.join(path, 'images') if osp.isdir(osp.join(path, 'images')) else None)
            return Source(osp.basename(osp.normpath(path)), osp.join(path, sub), img, classes)
    sibling = osp.join(osp.dirname(osp.normpath(path)), 'images')
    return Source(osp.basename(osp.normpath(path)), path, img_dir or (sibling if osp.isdir(sibling) else None),
                  classes)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0] + ' ' + __doc__.split('\n')[1],
                                epilog=__doc__.split('\n', 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('source', help='config file (.py) or DOTA folder (split folder or label folder)')
    p.add_argument('--split', nargs='+', default=['train', 'val', 'test'], help='config dataloaders to check')
    p.add_argument('--img-dir', help='image folder (folder input; default images/ beside the labels)')
    p.add_argument('--classes', help="class list: dota1.0 | dota1.5 | dota2.0, a .txt file or 'a,b,c' "
                   '(folder input; default: any name)')
    p.add_argument('--min-area', type=float, default=1.0, help='boxes below this area (px²) are zero_area')
    p.add_argument('--tol', type=float, default=1.0, help='px a corner may lie outside the image')
    p.add_argument('--out-dir', default='work_dirs/check_dataset', help='folder for check_dataset.png/.json')
    p.add_argument('--show', type=int, default=10, help='problems listed per kind')
    p.add_argument('--cfg-options', nargs='+', metavar='KEY=VALUE', help='override config entries')
    add_debug_flag(p)
    return p.parse_args(argv)


@cli_main('check_dataset.py')
def main(argv=None) -> int:
    args = parse_args(argv)
    if args.source.endswith('.py'):
        from rotated_ld.utils.setup_env import parse_cfg_options

        opts = parse_cfg_options(args.cfg_options) or None
        sources = sources_from_config(args.source, args.split, opts)
    elif osp.isdir(args.source):
        classes = None
        if args.classes:
            from rotated_ld.evaluation.functional.submission_check import resolve_class_set

            classes = resolve_class_set(args.classes)
        sources = [source_from_dir(args.source, args.img_dir, classes)]
    else:
        raise FileNotFoundError(f'{args.source!r} is neither a config (.py) nor a folder')
    results = [check_source(s, args.min_area, args.tol) for s in sources]
    for r in results:
        print(r.report(args.show))
    os.makedirs(args.out_dir, exist_ok=True)
    png = plot(results, osp.join(args.out_dir, 'check_dataset.png'))
    js = osp.join(args.out_dir, 'check_dataset.json')
    with open(js, 'w') as f:
        json.dump([r.summary() for r in results], f, indent=1)
    print(f'histograms: {png}; summary: {js}')
    bad = [f'{r.source.label_dir}: {r.num_errors} errors, first: {r.first_error()}' for r in results if r.num_errors]
    if bad:  # errors in the data: bad input, exit 2 and one stderr line (rotated_ld.utils.cli)
        raise InputError('; '.join(bad) + ' (see the report above)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
