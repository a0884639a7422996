"""DOTA class lists (official order) and :class:`DOTADataset` (mmrotate 1.x compatible).

A DOTA split folder holds ``images/`` and one labelTxt per image (``annfiles/`` after the
split tool, ``labelTxt/`` for full scenes). ``ann_file`` is that label folder; ``ann_file=''``
(or ``None``) lists the images only (unlabelled test sets). Each data_info is::

    dict(img_id='P0000__1024__0___0', file_name='P0000__1024__0___0.png', img_path=...,
         instances=[dict(bbox=[x1, y1, ..., x4, y4], bbox_label=int, ignore_flag=0|1), ...])

``bbox`` is the 8-coordinate polygon in pixels; the pipeline turns it into an rbox of the
configured angle version (``LoadAnnotations(box_type='qbox')`` + ``ConvertBoxType``).
``ignore_flag`` is 1 when ``difficulty > diff_thr`` (DOTA: 1 = difficult, 2 = truncated by the
split). Malformed label lines raise :class:`~rotated_ld.datasets.dota_txt.DOTAFormatError`
with ``file:line`` unless ``lenient=True``, which skips and counts them; the counts (and the
numbers of images, objects and ignored objects) are logged after loading, followed by a table
``class | objects | images``.

Custom data without code edits: ``metainfo=dict(classes=('car', 'boat'))`` (mmrotate style), a
class-list file ``metainfo=dict(classes='data/mine/classes.txt')``, or
``metainfo=dict(classes='infer')`` -- the sorted class names found in the label files (of
``infer_classes_from``, default the dataset's own ``ann_file``; give val/test the train folder so
every split maps names to the same ids).
"""
from __future__ import annotations

import glob
import logging
import os.path as osp
from collections import Counter
from typing import Sequence

from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from ..registry import DATASETS
from ._scope import rotated_ld_scope
from .dota_classes import DOTA_CLASSES, DOTA_PALETTE, DOTA_V1_0, DOTA_V1_5, DOTA_V2_0, make_palette  # noqa: F401
from .dota_txt import MALFORMED_KINDS, parse_dota_txt


def scan_dota_classes(label_dirs: str | Sequence[str]) -> tuple[tuple, Counter]:
    """Class names found in the DOTA labelTxt files of ``label_dirs`` (sorted) and their object counts.

    Only lines with 9 or 10 fields count (headers and malformed lines are left to the parser).
    """
    dirs = [label_dirs] if isinstance(label_dirs, str) else list(label_dirs)
    counts: Counter = Counter()
    for d in dirs:
        files = sorted(glob.glob(osp.join(d, '*.txt')))
        if not files:
            raise FileNotFoundError(f"classes='infer': no .txt label files in {d!r}")
        for path in files:
            with open(path, encoding='utf-8') as f:
                for line in f:
                    t = line.split()
                    if len(t) in (9, 10):
                        counts[t[8]] += 1
    return tuple(sorted(counts)), counts


@DATASETS.register_module()
class DOTADataset(BaseDataset):
    """DOTA v1.0 / v1.5 / v2.0 (or any class list) from a folder of DOTA labelTxt files.

    Args:
        version (str): ``'v1.0'`` (15 classes), ``'v1.5'`` (+container-crane) or ``'v2.0'``
            (+airport, helipad); ignored when ``metainfo`` gives ``classes``.
        metainfo (dict | None): ``classes`` may be a tuple of names, a class-list file (one name
            per line) or ``'infer'``: the sorted names found in the label files (of
            ``infer_classes_from``, default this dataset's ``ann_file``). A table ``class |
            objects | images`` is logged after loading either way.
        infer_classes_from (str | list[str] | None): label folder(s) scanned by ``classes='infer'``;
            point val/test at the train labels so every split gets the same class ids.
        diff_thr (int): objects with ``difficulty > diff_thr`` get ``ignore_flag=1``. Default
            100 (nothing ignored) as mmrotate; use 0 to ignore difficult (1) and split-truncated
            (2) objects in evaluation.
        img_suffix (str): image extension, ``'png'`` (also ``'jpg'``, ``'tif'``, ``'bmp'``).
        lenient (bool): skip and count malformed label lines and label files whose image is missing
            instead of raising (strict: one error naming the missing images, count and first few).
        min_area (float): polygons smaller than this (px²) are malformed (``degenerate``).
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments (``ann_file``, ``data_root``,
            ``data_prefix=dict(img_path='images/')``, ``filter_cfg=dict(filter_empty_gt=True)``,
            ``pipeline``, ``test_mode``, ``lazy_init``, ``metainfo``, ...).

    Example:
        >>> ds = DOTADataset(data_root='data/split_ss_dota/train/', ann_file='annfiles/',
        ...                  data_prefix=dict(img_path='images/'), lazy_init=True)  # doctest: +SKIP
    """

    METAINFO = dict(classes=DOTA_V1_0, palette=DOTA_PALETTE[:15])

    def __init__(self, *args, version: str = 'v1.0', diff_thr: int = 100, img_suffix: str = 'png',
                 lenient: bool = False, min_area: float = 1e-3, metainfo: dict | None = None,
                 infer_classes_from: str | Sequence[str] | None = None, **kwargs):
        if version not in DOTA_CLASSES:
            raise ValueError(f'version={version!r}; expected one of {tuple(DOTA_CLASSES)}')
        metainfo = dict(metainfo or {})
        classes = metainfo.get('classes')
        if classes is None:
            classes = DOTA_CLASSES[version]
        elif isinstance(classes, str):
            classes = self._classes_from_string(classes, args, kwargs, infer_classes_from)
        metainfo['classes'] = tuple(classes)
        self.class_table: list[tuple[str, int, int]] = []
        metainfo.setdefault('palette', make_palette(len(metainfo['classes'])))
        self.version = version
        self.diff_thr = diff_thr
        self.img_suffix = img_suffix.lstrip('.')
        self.lenient = lenient
        self.min_area = min_area
        self.skipped_lines: Counter = Counter()
        self.missing_images: list[str] = []
        with rotated_ld_scope():  # pipeline transforms resolve in our registry
            super().__init__(*args, metainfo=metainfo, **kwargs)

    # ------------------------------------------------------------------ classes
    @classmethod
    def _classes_from_string(cls, spec: str, args, kwargs, infer_from) -> tuple:
        """``'infer'`` -> class names found in the label files; other strings -> a class-list file."""
        if spec != 'infer':
            if not osp.isfile(spec):
                raise ValueError(f"metainfo classes={spec!r}: expected a tuple of names, 'infer' (names found "
                                 'in the label files) or a class-list file (one name per line)')
            with open(spec, encoding='utf-8') as f:
                return tuple(ln.strip() for ln in f if ln.strip())
        if infer_from is None:
            ann_file = args[0] if args else kwargs.get('ann_file', '')
            if not ann_file:
                raise ValueError("metainfo classes='infer' needs ann_file (a label folder) or infer_classes_from")
            data_root = kwargs.get('data_root') or ''
            infer_from = ann_file if osp.isabs(ann_file) or not data_root else osp.join(data_root, ann_file)
        classes, counts = scan_dota_classes(infer_from)
        if not classes:
            raise ValueError(f"metainfo classes='infer': no objects in the label files of {infer_from!r}")
        print_log(f'{cls.__name__}: inferred {len(classes)} classes (sorted) from {infer_from}: {classes}; '
                  f'set the head num_classes={len(classes)} and use the same class list (or the same '
                  'infer_classes_from) for train, val and test', logger='current')
        return classes

    def _log_class_table(self, data_list: list[dict]) -> None:
        """Log ``class | objects | images`` (all objects, ignored included) and store it in ``class_table``."""
        classes = self.metainfo['classes']
        objs, imgs = Counter(), Counter()
        for d in data_list:
            labels = [inst['bbox_label'] for inst in d['instances']]
            objs.update(labels)
            imgs.update(set(labels))
        self.class_table = [(c, objs[i], imgs[i]) for i, c in enumerate(classes)]
        width = max([len(c) for c in classes] + [5])
        rows = [f'{"class":<{width}}  {"objects":>8}  {"images":>7}']
        rows += [f'{c:<{width}}  {o:>8}  {n:>7}' for c, o, n in self.class_table]
        rows.append(f'{"total":<{width}}  {sum(objs.values()):>8}  {len(data_list):>7}')
        empty = [c for c, o, _ in self.class_table if o == 0]
        msg = f'{len(classes)} classes:\n' + '\n'.join(rows)
        if empty:
            msg += f'\n{len(empty)} classes without objects: {", ".join(empty)}'
        self._log(msg)

    def load_data_list(self) -> list[dict]:
        """Read every labelTxt of ``ann_file`` (or list images when ``ann_file`` is empty)."""
        classes = self.metainfo['classes']
        cls_map = {c: i for i, c in enumerate(classes)}
        img_dir = self.data_prefix.get('img_path', self.data_prefix.get('img', ''))
        data_list = []
        if not self.ann_file or self.ann_file == self.data_root:
            paths = sorted(glob.glob(osp.join(img_dir, f'*.{self.img_suffix}')))
            if not paths:
                raise FileNotFoundError(f'no *.{self.img_suffix} images in {img_dir!r}')
            for p in paths:
                name = osp.basename(p)
                data_list.append(dict(img_id=osp.splitext(name)[0], file_name=name, img_path=p,
                                      instances=[]))
            self._log(f'{len(data_list)} images without annotations from {img_dir}')
            return data_list
        txt_files = sorted(glob.glob(osp.join(self.ann_file, '*.txt')))
        if not txt_files:
            raise FileNotFoundError(f'no .txt annotation files in {self.ann_file!r}')
        self.skipped_lines = Counter()
        n_obj = n_ign = 0
        by_diff: Counter = Counter()
        for txt in txt_files:
            img_id = osp.splitext(osp.basename(txt))[0]
            ann = parse_dota_txt(txt, classes=classes, strict=not self.lenient, min_area=self.min_area)
            self.skipped_lines.update(ann.skipped)
            by_diff.update(ann.difficulties.tolist())
            instances = []
            for poly, name, diff in zip(ann.polys.tolist(), ann.labels, ann.difficulties.tolist()):
                ignore = int(diff > self.diff_thr)
                instances.append(dict(bbox=poly, bbox_label=cls_map[name], ignore_flag=ignore))
                n_ign += ignore
            n_obj += len(instances)
            name = f'{img_id}.{self.img_suffix}'
            data_list.append(dict(img_id=img_id, file_name=name, img_path=osp.join(img_dir, name),
                                  instances=instances, gsd=ann.gsd))
        data_list, n_obj = self._drop_missing_images(data_list, img_dir, n_obj)
        diffs = ', '.join(f'{k}: {by_diff[k]}' for k in sorted(by_diff))
        msg = (f'{len(data_list)} images, {n_obj} objects (by difficulty {{{diffs}}}; {n_ign} ignored: difficulty > '
               f'{self.diff_thr}; 1 = difficult, 2 = truncated by the split) from {self.ann_file}')
        if self.lenient:
            total = sum(self.skipped_lines.values())
            kinds = ', '.join(f'{k}: {self.skipped_lines[k]}' for k in MALFORMED_KINDS)
            msg += f'; lenient: skipped {total} malformed lines ({kinds})'
            if self.missing_images:
                msg += (f' and {len(self.missing_images)} label files without an image '
                        f'(first: {", ".join(self.missing_images[:3])})')
        bad = sum(self.skipped_lines.values()) or self.missing_images
        self._log(msg, logging.WARNING if bad else logging.INFO)
        self._log_class_table(data_list)
        return data_list

    def _drop_missing_images(self, data_list: list[dict], img_dir: str, n_obj: int) -> tuple[list[dict], int]:
        """Check at build time that every label file has its image (else training crashes later in
        the loader). Strict: ``FileNotFoundError`` with the count and the first missing images;
        lenient: drop them, counted in :attr:`missing_images` and the dataset summary."""
        missing = [d for d in data_list if not osp.isfile(d['img_path'])]
        self.missing_images = [d['img_path'] for d in missing]
        if not missing:
            return data_list, n_obj
        if not self.lenient:
            first = ', '.join(osp.basename(d['img_path']) for d in missing[:3])
            hint = (f' (no image in {img_dir!r} at all: is img_suffix={self.img_suffix!r} or '
                    "data_prefix.img_path right?)" if len(missing) == len(data_list) else '')
            raise FileNotFoundError(
                f'{self.ann_file}: {len(missing)} of {len(data_list)} label files have no image in {img_dir!r} '
                f'(first: {first}){hint}; add the images, or set lenient=True to skip and count them')
        dropped = sum(len(d['instances']) for d in missing)
        keep = [d for d in data_list if osp.isfile(d['img_path'])]
        return keep, n_obj - dropped

    def _log(self, msg: str, level=logging.INFO) -> None:
        print_log(f'{type(self).__name__}: {msg}', logger='current', level=level)

    def filter_data(self) -> list[dict]:
        """Drop images without objects when ``filter_cfg.filter_empty_gt`` (train); keep all in test mode."""
        if self.test_mode or not self.filter_cfg or not self.filter_cfg.get('filter_empty_gt', False):
            return self.data_list
        kept = [d for d in self.data_list if len(d['instances']) > 0]
        if len(kept) < len(self.data_list):
            self._log(f'filter_empty_gt dropped {len(self.data_list) - len(kept)} images without objects')
        return kept

    def get_cat_ids(self, idx: int) -> list[int]:
        """Class ids of the objects of image ``idx``."""
        return [inst['bbox_label'] for inst in self.get_data_info(idx)['instances']]
