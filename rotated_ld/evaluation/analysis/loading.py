"""Read result sets and ground truth for the analysis tools (no torch unless a config's dataset is built).

Result sets:
    * ``tools/test.py --out results.pkl`` dumps (:class:`DumpDetResults`: one dict per image with
      ``img_path`` and ``pred_instances``), read with the allow-list unpickler
      (:func:`rotated_ld.utils.safe_pickle.safe_pickle_load`: no pickled code runs); images are keyed
      by file stem; ``merge=True`` maps split patches (``P0003__1024__0___824``) back to their
      scenes with :func:`merge_results` (per-class rotated NMS at IoU 0.1, as DOTAMetric);
    * DOTA Task1 folders (``Task1_<class>.txt``, full-image polygons).

Ground truth: a labelTxt folder (patches or full scenes) or a config whose test / val dataset has
labels (as ``tools/analysis_tools/confusion_matrix.py``).
"""
from __future__ import annotations

import os
import os.path as osp
from typing import Sequence

import numpy as np
from mmengine.registry import init_default_scope

from rotated_ld.datasets.dota_patch_name import parse_patch_name
from rotated_ld.datasets.file_types import IMG_EXTS
from rotated_ld.utils.safe_pickle import UnsafeCheckpointError, safe_pickle_load
from rotated_ld.utils.setup_env import load_config

from ..functional.confusion import ImageGts
from ..functional.dota_io import load_labeltxt_dir, load_task1_dir
from ..functional.merge import merge_results

__all__ = ['load_dump', 'dump_detections', 'load_result_set', 'dataset_ground_truth', 'gt_from_dataset',
           'load_ground_truth', 'image_stem']


def image_stem(path: str) -> str:
    """``/x/P0003__1024__0___0.png`` → ``P0003__1024__0___0``."""
    return osp.splitext(osp.basename(str(path)))[0]


def load_dump(path: str) -> list:
    """The per-image list of a ``tools/test.py --out`` pickle; ``ValueError`` names the file otherwise."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'results file not found: {path}')
    try:  # numpy + containers only: a pickle with other globals is refused, no code runs
        results = safe_pickle_load(path)
    except UnsafeCheckpointError as e:
        raise ValueError(f'{e}; expected the results pickle of tools/test.py --out') from e
    if not isinstance(results, list) or not all(isinstance(r, dict) and 'pred_instances' in r for r in results):
        raise ValueError(f'{path}: expected the list of per-image dicts with pred_instances that '
                         'tools/test.py --out writes')
    return results


def _np_boxes(x, what: str) -> np.ndarray:
    a = np.asarray(x.detach().cpu().numpy() if hasattr(x, 'detach') else x, np.float64)
    if a.size == 0:
        return a.reshape(0, a.shape[-1] if a.ndim == 2 and a.shape[-1] in (4, 5, 8) else 5)
    if a.ndim != 2 or a.shape[-1] not in (4, 5, 8):
        raise ValueError(f'{what}: boxes of shape {tuple(a.shape)}; expected (K, 4), (K, 5) or (K, 8)')
    return a


def dump_detections(records: Sequence[dict], source: str = 'results') -> tuple[dict, dict]:
    """``({stem: dict(bboxes, scores, labels)}, {stem: img_path})`` of a dump; a stem seen twice is an error."""
    dets, paths = {}, {}
    for n, r in enumerate(records):
        stem = image_stem(r.get('img_path', r.get('img_id', n)))
        if stem in dets:
            raise ValueError(f'{source}: image {stem!r} appears twice (entries {list(dets).index(stem)} and {n})')
        p = r['pred_instances']
        boxes = _np_boxes(p.get('bboxes', np.zeros((0, 5))), f'{source}: {stem}')
        scores = np.asarray(p.get('scores', np.zeros(0)), np.float64).reshape(-1)
        labels = np.asarray(p.get('labels', np.zeros(0)), np.int64).reshape(-1)
        if not len(boxes) == len(scores) == len(labels):
            raise ValueError(f'{source}: {stem}: {len(boxes)} boxes, {len(scores)} scores, {len(labels)} labels')
        dets[stem] = dict(bboxes=boxes, scores=scores, labels=labels)
        paths[stem] = r.get('img_path')
    return dets, paths


def load_result_set(path: str, classes: Sequence[str], images: Sequence[str], merge: bool = False) -> tuple[dict, dict]:
    """``(detections by image stem, image paths)`` from a ``.pkl`` dump or a Task1 folder.

    ``merge``: a dump on split patches (every image name a patch name) is merged to full scenes; a
    dump of full images (no patch names) and Task1 folders are used as they are.
    """
    if osp.isdir(path):
        return load_task1_dir(path, classes, set(images)), {}
    dets, paths = dump_detections(load_dump(path), path)
    if merge:
        names = list(dets)
        is_patch = []
        for n in names:
            try:
                parse_patch_name(n)
                is_patch.append(True)
            except ValueError:
                is_patch.append(False)
        if not any(is_patch):
            return dets, paths
        if not all(is_patch):
            bad = names[is_patch.index(False)]
            raise ValueError(f'{path}: image {bad!r} is not a patch name while others are; cannot merge a mixed dump')
        merged, _ = merge_results(names, [dets[n] for n in names], iou_thr=0.1)
        return merged, {}
    return dets, paths


def dataset_ground_truth(cfg, split: str = 'auto') -> tuple[dict, tuple]:
    """``({absolute image path: ImageGts}, classes)`` of the config's labelled test / val dataset.

    ``split``: ``'test'``, ``'val'`` or ``'auto'`` (test when it has labels, else val). Boxes are
    as the dataset stores them: DOTA ``(G, 8)`` polygons, COCO / VOC ``(G, 4)`` xyxy.
    """
    from rotated_ld.registry import DATASETS  # local: the registry imports torch (only a config's dataset needs it)

    init_default_scope(cfg.get('default_scope', 'rotated_ld'))
    for name in (['test', 'val'] if split == 'auto' else [split]):
        loader = cfg.get(f'{name}_dataloader')
        if not loader or 'dataset' not in loader:
            continue
        dataset = DATASETS.build(loader['dataset'])
        infos = [dataset.get_data_info(i) for i in range(len(dataset))]
        if split == 'auto' and not any(info.get('instances') for info in infos):
            continue  # e.g. the DOTA test split / merge-mode test set: labels live elsewhere
        gts = {}
        for info in infos:
            inst = info.get('instances', [])
            boxes = np.array([i['bbox'] for i in inst], np.float64)
            width = boxes.shape[1] if boxes.ndim == 2 else 4
            gts[osp.abspath(info['img_path'])] = ImageGts(
                boxes.reshape(-1, width), np.array([i['bbox_label'] for i in inst], np.int64),
                np.array([bool(i.get('ignore_flag', 0)) for i in inst], bool))
        return gts, tuple(dataset.metainfo['classes'])
    raise ValueError(f'no labelled dataset in {split if split != "auto" else "test_dataloader or val_dataloader"} '
                     'of the config (pick one with --split)')


def gt_from_dataset(cfg, split: str = 'auto') -> tuple[dict, tuple, dict]:
    """``({stem: annotation}, classes, {stem: image path})`` for :func:`evaluate_model`."""
    by_path, classes = dataset_ground_truth(cfg, split)
    gts, paths = {}, {}
    for path, g in by_path.items():
        stem = image_stem(path)
        ign = g.ignore
        gts[stem] = dict(bboxes=g.boxes[~ign], labels=g.labels[~ign], bboxes_ignore=g.boxes[ign],
                         labels_ignore=g.labels[ign])
        paths[stem] = path
    return gts, classes, paths


def load_ground_truth(source, classes: Sequence[str] | None = None, split: str = 'auto',
                      cfg_options: Sequence[str] = ()) -> tuple[dict, tuple, dict]:
    """``({stem: annotation}, classes, {stem: image path})`` from a labelTxt folder, a config file or a
    loaded MMEngine ``Config``.

    A labelTxt folder needs ``classes``; image paths are then unknown (empty dict) unless given
    separately (``--img-dir`` of the tools).
    """
    if not isinstance(source, str):  # a Config (tools/test.py --report)
        return gt_from_dataset(source, split)
    if osp.isdir(source):
        if not classes:
            raise ValueError(f'{source}: a labelTxt folder needs the class list (--classes)')
        gts = load_labeltxt_dir(source, classes)
        for g in gts.values():
            g.pop('skipped', None)
        return gts, tuple(classes), {}
    if not osp.isfile(source):
        raise FileNotFoundError(f'ground truth not found: {source} (expected a labelTxt folder or a config file)')
    return gt_from_dataset(load_config(source, list(cfg_options)), split)


def find_images(img_dir: str, stems: Sequence[str]) -> dict:
    """``{stem: path}`` for the stems that have an image in ``img_dir`` (any of ``IMG_EXTS``)."""
    have = {}
    for f in os.listdir(img_dir):
        stem, ext = osp.splitext(f)
        if ext.lower() in IMG_EXTS:
            have[stem] = osp.join(img_dir, f)
    return {s: have[s] for s in stems if s in have}
