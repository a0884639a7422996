"""DOTA text formats used by evaluation: ``labelTxt`` ground truth and ``Task1_<class>.txt`` results.

labelTxt (one object per line, parsed like DOTA_devkit's ``parse_gt``)::

    imagesource:GoogleEarth          <- lines with fewer than 9 tokens are headers, skipped
    gsd:0.146343590398
    x1 y1 x2 y2 x3 y3 x4 y4 class [difficult]

Task1 result file ``Task1_<class>.txt`` (one detection per line)::

    image_id score x1 y1 x2 y2 x3 y3 x4 y4

Every parsing error names ``file:line`` and the offending text: bytes that are not UTF-8, a
labelTxt line with fewer than 9 fields that is not a ``name:value`` header or with more than 10
(the devkit skips / truncates those silently: here they are errors, an object must not vanish), a bad number,
NaN/inf, a coordinate beyond ``±MAX_COORD`` px, a difficulty outside ``[0, 2**31)``.
"""
from __future__ import annotations

import io
import os
import os.path as osp
import zipfile
from typing import Iterable, Mapping, Sequence

import numpy as np

from rotated_ld.datasets.dota_classes import DOTA_V1_0, DOTA_V1_5, DOTA_V2_0
from rotated_ld.datasets.dota_patch_name import image_id
from rotated_ld.structures.bbox import rbox2poly

MAX_COORD = 1e6  # px; DOTA scenes are at most 20 000 px: larger values are corrupt rows

__all__ = ['DOTA_CLASS_SETS', 'resolve_classes', 'load_labeltxt', 'load_labeltxt_dir',
           'load_task1_dir', 'write_task1', 'rbox2poly_np']


def _read_lines(path: str) -> list:
    """``\n``-separated lines of a UTF-8 text file; a ``ValueError`` names ``file:line`` otherwise."""
    with open(path, 'rb') as f:
        data = f.read()
    try:
        return data.decode('utf-8').split('\n')
    except UnicodeDecodeError as e:
        n = data.count(b'\n', 0, e.start) + 1
        raise ValueError(f'{path}:{n}: byte 0x{data[e.start]:02x} is not UTF-8 text; expected a UTF-8 '
                         'text file') from None


def _class_sets() -> dict:
    return {'dota1.0': DOTA_V1_0, 'dota1.5': DOTA_V1_5, 'dota2.0': DOTA_V2_0}


DOTA_CLASS_SETS = _class_sets()


def resolve_classes(classes: str | Sequence[str]) -> tuple:
    """``'dota1.0' | 'dota1.5' | 'dota2.0'`` (also ``'v1.0'`` ...) or an explicit sequence -> tuple."""
    if isinstance(classes, str):
        key = classes.lower().replace('v', 'dota') if classes.lower().startswith('v') else classes.lower()
        if key not in DOTA_CLASS_SETS:
            raise ValueError(f'classes={classes!r}; expected one of {sorted(DOTA_CLASS_SETS)} '
                             'or a list of class names')
        return tuple(DOTA_CLASS_SETS[key])
    return tuple(classes)


def rbox2poly_np(rboxes: np.ndarray) -> np.ndarray:
    """``(K, 5)`` ``(cx, cy, w, h, t)`` radians -> ``(K, 8)`` corner polygons (numpy, float64).

    :func:`rotated_ld.structures.bbox.rbox2poly` on a float64 ``(K, 5)`` view, so Task1 files
    and merged results have the package's one vertex order (mmrotate's ``rbox2qbox``). Any angle
    version works: the polygon of a rectangle does not depend on how its angle is normalised.
    """
    return rbox2poly(np.asarray(rboxes, dtype=np.float64).reshape(-1, 5))


def load_labeltxt(path: str, class_to_idx: Mapping[str, int], unknown: str = 'error') -> dict:
    """Parse one DOTA labelTxt file into an annotation dict for :func:`eval_map`.

    Args:
        path: label file.
        class_to_idx: class name -> label index.
        unknown: ``'error'`` (default) or ``'skip'`` for objects of classes not in ``class_to_idx``.

    Returns:
        dict: ``bboxes (G, 8)``, ``labels (G,)``, ``bboxes_ignore``, ``labels_ignore`` (difficult),
        and ``skipped`` (count of unknown-class objects when ``unknown='skip'``).
    """
    rows = []
    for n, line in enumerate(_read_lines(path), 1):
        t = line.split()
        if len(t) in (9, 10):
            rows.append((n, t))
        elif len(t) > 10:
            raise ValueError(f'{path}:{n}: {len(t)} fields in {line.strip()!r}; expected 9 or 10 '
                             "('x1 y1 x2 y2 x3 y3 x4 y4 class [difficult]', one object per line)")
        elif t and ':' not in t[0]:  # 'imagesource:GoogleEarth' / 'gsd:0.14' headers and blank lines pass
            raise ValueError(f'{path}:{n}: {len(t)} fields in {line.strip()!r}; expected '
                             "'x1 y1 x2 y2 x3 y3 x4 y4 class [difficult]' (or a 'name:value' header)")
    try:  # vectorised conversion; the per-row pass below only runs to name a bad row
        coords = np.array([t[:8] for _, t in rows], dtype=np.float64).reshape(-1, 8)
        difficult = np.array([int(t[9]) if len(t) >= 10 else 0 for _, t in rows], dtype=np.int64)
        if len(difficult) and not (difficult >= 0).all():
            raise ValueError
    except (ValueError, OverflowError):
        for n, t in rows:
            try:
                [float(v) for v in t[:8]]
                d = int(t[9]) if len(t) >= 10 else 0
                if not 0 <= d < 2 ** 31:
                    raise ValueError
            except ValueError:
                raise ValueError(f'{path}:{n}: malformed labelTxt row {" ".join(t)!r}; '
                                 "expected 'x1 y1 ... x4 y4 class [difficult]' with 8 numbers and an "
                                 'integer difficult >= 0') from None
        raise
    finite = np.isfinite(coords).all(1)
    if not finite.all():
        n, t = rows[int(np.flatnonzero(~finite)[0])]
        raise ValueError(f'{path}:{n}: non-finite coordinate in {" ".join(t)!r}')
    huge = (np.abs(coords) > MAX_COORD).any(1)
    if huge.any():
        n, t = rows[int(np.flatnonzero(huge)[0])]
        raise ValueError(f'{path}:{n}: coordinate beyond ±{MAX_COORD:g} px in {" ".join(t)!r}')
    names = [t[8] for _, t in rows]
    known = np.array([name in class_to_idx for name in names], dtype=bool)
    skipped = int((~known).sum())
    if skipped and unknown != 'skip':
        n, t = rows[int(np.flatnonzero(~known)[0])]
        raise ValueError(f'{path}:{n}: class {t[8]!r} is not in the class list '
                         f'({len(class_to_idx)} classes: {", ".join(class_to_idx)}); '
                         'pick the matching --classes / dataset version')
    labels = np.array([class_to_idx.get(name, -1) for name in names], dtype=np.int64)
    norm = known & (difficult == 0)
    diff = known & (difficult != 0)
    return dict(bboxes=coords[norm], labels=labels[norm], bboxes_ignore=coords[diff],
                labels_ignore=labels[diff], skipped=skipped)


def load_labeltxt_dir(gt_dir: str, classes: Sequence[str], images: Iterable[str] | None = None,
                      unknown: str = 'error') -> dict:
    """Load ``{image id: annotation}`` for every ``*.txt`` in ``gt_dir`` (or only ``images``).

    Image ids follow :func:`rotated_ld.datasets.dota_patch_name.image_id` (whitespace -> ``_``), so
    ``my scene.txt`` is image ``my_scene``, as ``infer.py`` and ``DOTAMetric`` name it in their rows.
    """
    if not osp.isdir(gt_dir):
        raise FileNotFoundError(f'ground-truth directory {gt_dir!r} does not exist')
    c2i = {c: i for i, c in enumerate(classes)}
    files: dict = {}
    for f in sorted(os.listdir(gt_dir)):
        if f.endswith('.txt'):
            key = image_id(f)
            if key in files:
                raise ValueError(f'{osp.join(gt_dir, f)} and {files[key]} have the same image id {key!r} '
                                 '(ids replace whitespace by _); rename one of them')
            files[key] = osp.join(gt_dir, f)
    if images is None:
        images = sorted(files)
        if not images:
            raise FileNotFoundError(f'no *.txt label files in {gt_dir!r}')
    out = {}
    for img in images:
        path = files.get(img, osp.join(gt_dir, f'{img}.txt'))
        if not osp.isfile(path):
            raise FileNotFoundError(f'no label file {path!r} for image {img!r}')
        out[img] = load_labeltxt(path, c2i, unknown)
    return out


def _read_task1_file(path: str, images) -> tuple:
    """``(names list, (K, 9) float64 score + polygon)`` of one Task1 file, validated.

    Fast path: numpy's C text parser; any problem re-reads the file row by row so that the
    error names ``file:line``.
    """
    text = '\n'.join(_read_lines(path))
    tokens = text.split()
    if not tokens:
        return [], np.zeros((0, 9))
    try:
        vals = np.loadtxt(io.StringIO(text), usecols=range(1, 10), dtype=np.float64, ndmin=2, comments=None)
        ok = len(tokens) == 10 * len(vals) and bool(np.isfinite(vals).all()) and \
            bool((np.abs(vals[:, 1:]) <= MAX_COORD).all())
    except ValueError:
        ok = False
    if ok:
        names = tokens[0::10]
        if all(name in images for name in set(names)):
            return names, vals
    rows = [(n, ln.split()) for n, ln in enumerate(text.split('\n'), 1) if ln.strip()]
    for n, t in rows:
        line = ' '.join(t)
        if len(t) != 10:
            raise ValueError(f'{path}:{n}: malformed row {line!r}: {len(t)} fields, expected 10 '
                             "('image score x1 y1 x2 y2 x3 y3 x4 y4')")
        try:
            v = [float(x) for x in t[1:]]
        except ValueError:
            raise ValueError(f'{path}:{n}: malformed row {line!r}: score and coordinates must be numbers') from None
        if not np.isfinite(v[0]):
            raise ValueError(f'{path}:{n}: score is {t[1]!r} in {line!r}')
        if not np.isfinite(v[1:]).all():
            raise ValueError(f'{path}:{n}: non-finite coordinate in {line!r}')
        if (np.abs(v[1:]) > MAX_COORD).any():
            raise ValueError(f'{path}:{n}: coordinate beyond ±{MAX_COORD:g} px in {line!r}')
        if t[0] not in images:
            raise ValueError(f'{path}:{n}: image {t[0]!r} has no ground-truth label file ({len(images)} images known)')
    raise ValueError(f'{path}: cannot parse (no offending row found)')


def load_task1_dir(det_dir: str, classes: Sequence[str], images: Iterable[str],
                   notes: dict | None = None) -> dict:
    """Read ``Task1_<class>.txt`` files into ``{image: dict(bboxes (K, 8), scores, labels)}``.

    Raises ``ValueError`` naming ``file:line`` for: a file of a class not in ``classes``, a row
    that is not ``image score x1 ... y4``, a NaN/inf score or coordinate, an unknown image.
    A missing class file means no detections of that class (AP 0 where it has objects), and
    duplicate rows are scored as the devkit does (the second copy is a false positive); both are
    recorded in ``notes`` (when given) for the caller to report:
    ``missing_files`` (file names), ``other_files`` (``.txt`` files not named ``Task1_*``, e.g.
    ``Task2_plane.txt``) and ``duplicates`` (``{file: rows that repeat an earlier row}``).
    """
    if not osp.isdir(det_dir):
        raise FileNotFoundError(f'detection directory {det_dir!r} does not exist')
    images = set(images)
    c2i = {c: i for i, c in enumerate(classes)}
    files = sorted(f for f in os.listdir(det_dir) if f.startswith('Task1_') and f.endswith('.txt'))
    if not files:
        raise FileNotFoundError(f'no Task1_<class>.txt files in {det_dir!r}')
    parts = []
    notes = {} if notes is None else notes
    notes['missing_files'] = [f'Task1_{c}.txt' for c in classes if f'Task1_{c}.txt' not in files]
    notes['other_files'] = sorted(f for f in os.listdir(det_dir) if f.endswith('.txt') and f not in files)
    notes['duplicates'] = {}
    for fname in files:
        cls = fname[len('Task1_'):-len('.txt')]
        path = osp.join(det_dir, fname)
        if cls not in c2i:
            raise ValueError(f'{path}: class {cls!r} is not in the class list ({", ".join(classes)}); '
                             'pick the matching --classes')
        names, vals = _read_task1_file(path, images)
        if not len(names):
            continue
        rows = np.concatenate([np.unique(np.asarray(names), return_inverse=True)[1][:, None].astype(np.float64),
                               vals], 1)
        dup = len(rows) - len(np.unique(rows, axis=0))
        if dup:
            notes['duplicates'][fname] = int(dup)
        parts.append((names, vals, c2i[cls]))
    # group rows by image with numpy: concatenate all files, then split by image
    if not parts:
        return {}
    all_names = np.concatenate([np.asarray(nm, dtype=object) for nm, _, _ in parts])
    all_vals = np.concatenate([v for _, v, _ in parts])
    all_labels = np.concatenate([np.full(len(v), lab, np.int64) for _, v, lab in parts])
    uniq, inv = np.unique(all_names.astype(str), return_inverse=True)
    order = np.argsort(inv, kind='stable')  # keeps file order inside an image
    bounds = np.searchsorted(inv[order], np.arange(len(uniq) + 1))
    out = {}
    for u, name in enumerate(uniq.tolist()):
        sel = order[bounds[u]:bounds[u + 1]]
        out[name] = dict(bboxes=all_vals[sel, 1:], scores=all_vals[sel, 0], labels=all_labels[sel])
    return out


def write_task1(results: Mapping[str, dict], classes: Sequence[str], out_dir: str,
                zip_name: str | None = None) -> list:
    """Write ``Task1_<class>.txt`` for every class (empty files included) and optionally a zip.

    Args:
        results: ``{image: dict(bboxes (K, 8) polygons or (K, 5) rboxes, scores, labels)}``.
        classes: class names (label order).
        out_dir: folder for the txt files (created).
        zip_name: file name of a zip with the txt files at its root, written into ``out_dir``.

    Returns:
        list[str]: the written paths (txt files, then the zip).
    """
    os.makedirs(out_dir, exist_ok=True)
    lines: list = [[] for _ in classes]
    for img, res in results.items():
        boxes = np.asarray(res['bboxes'], np.float64)
        polys = rbox2poly_np(boxes) if boxes.shape[-1] == 5 else boxes.reshape(-1, 8)
        scores = np.asarray(res['scores'], np.float64).reshape(-1)
        labels = np.asarray(res['labels'], np.int64).reshape(-1)
        for p, s, lab in zip(polys, scores, labels):
            lines[lab].append(f'{img} {s:.6f} ' + ' '.join(f'{v:.2f}' for v in p) + '\n')
    paths = []
    for cls, rows in zip(classes, lines):
        path = osp.join(out_dir, f'Task1_{cls}.txt')
        with open(path, 'w', encoding='utf-8') as f:
            f.writelines(rows)
        paths.append(path)
    if zip_name:
        zpath = osp.join(out_dir, zip_name)
        with zipfile.ZipFile(zpath, 'w', zipfile.ZIP_DEFLATED) as z:
            for p in paths:
                z.write(p, arcname=osp.basename(p))
        paths.append(zpath)
    return paths
