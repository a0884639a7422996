"""Confusion matrix of a detector's results (mmdetection's tool, with rotated boxes).

Input: the config and the ``.pkl`` that ``tools/test.py CONFIG CKPT --out results.pkl`` writes.
Ground truth comes from the config's dataset (``--split``; ``auto``: the test set when it has
labels, else the val set), matched to the results by image path; results of images without labels
there are counted and reported, never silently dropped. Rules (mmdet's): see
:mod:`rotated_ld.evaluation.functional.confusion`. DOTA boxes are compared as polygons (devkit IoU),
on the patches the results were made on.

Writes ``SAVE_DIR/confusion_matrix.png`` (rows normalised to %, counts in the json) and
``SAVE_DIR/confusion_matrix.json``; prints each class's recall at ``--score-thr`` and its most
frequent confusion.

Examples:
    python tools/test.py configs/demo/rotated-ld_r18-slim-rgfl-r18-slim-long_fpn_synthetic-dota_le90.py \\
        work_dirs/demo/ld/iter_130.pth --out results.pkl
    python tools/analysis_tools/confusion_matrix.py CONFIG results.pkl cm/ --score-thr 0.3 --tp-iou-thr 0.5
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))  # run from a checkout


class InputError(Exception):
    """A user-input problem reported as one line."""


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Confusion matrix of detection results',
                                epilog='examples:' + __doc__.split('Examples:')[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config', help='config file (its dataset gives the ground truth)')
    p.add_argument('results', help='results .pkl from tools/test.py --out')
    p.add_argument('save_dir', help='where confusion_matrix.png / .json go')
    p.add_argument('--split', choices=['auto', 'test', 'val'], default='auto',
                   help='dataset with the labels (default auto: test if labelled, else val)')
    p.add_argument('--score-thr', type=float, default=0.3, help='detections below are ignored (default 0.3)')
    p.add_argument('--tp-iou-thr', type=float, default=0.5, help='IoU for a match (default 0.5)')
    p.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE', help='override config entries')
    return p.parse_args(argv)


def _boxes(x, what: str):
    """Tensor / array boxes → numpy: ``(K, 8)`` polygons for rotated ``(K, 5)``, ``(K, 4)`` xyxy as is."""
    import numpy as np

    from rotated_ld.evaluation.functional import rbox2poly_np

    a = np.asarray(x.detach().cpu().numpy() if hasattr(x, 'detach') else x, np.float64)
    if a.size == 0:
        return a.reshape(0, 8 if a.ndim == 2 and a.shape[-1] in (5, 8) else 4)
    if a.shape[-1] == 5:
        return rbox2poly_np(a)
    if a.shape[-1] in (4, 8):
        return a.reshape(-1, a.shape[-1])
    raise InputError(f'{what}: boxes of shape {tuple(a.shape)}; expected (K, 4), (K, 5) or (K, 8)')


def load_ground_truth(cfg, split: str) -> tuple[dict, tuple]:
    """``{image path: ImageGts}`` and the class names of the chosen dataset."""
    import numpy as np
    from mmengine.registry import init_default_scope

    from rotated_ld.evaluation.functional import ImageGts
    from rotated_ld.registry import DATASETS

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
    raise InputError(f'no labelled dataset in {split if split != "auto" else "test_dataloader or val_dataloader"} '
                     'of the config (pick one with --split)')


def load_results(path: str) -> list:
    from rotated_ld.utils.checkpoint import UnsafeCheckpointError, safe_pickle_load

    if not osp.isfile(path):
        raise InputError(f'results file not found: {path}')
    try:  # numpy + containers only: a pickle with other globals is refused, no code runs
        results = safe_pickle_load(path)
    except UnsafeCheckpointError as e:
        raise InputError(f'{e}; expected the results pickle of tools/test.py --out') from e
    if not isinstance(results, list) or not all(isinstance(r, dict) and 'pred_instances' in r for r in results):
        raise InputError(f'{path}: expected the list of per-image dicts with pred_instances that '
                         'tools/test.py --out writes')
    return results


def plot(cm, classes, out: str, score_thr: float, iou_thr: float) -> None:
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np

    names = list(classes) + ['background']
    pct = cm / np.maximum(cm.sum(1, keepdims=True), 1) * 100
    n = len(names)
    fig, ax = plt.subplots(figsize=(0.55 * n + 3, 0.55 * n + 2.5), dpi=120)
    im = ax.imshow(pct, cmap='Blues', vmin=0, vmax=100)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label='% of the row')
    ax.set_xticks(range(n), names, rotation=60, ha='right', fontsize=8)
    ax.set_yticks(range(n), names, fontsize=8)
    ax.set_xlabel('predicted')
    ax.set_ylabel('ground truth')
    ax.set_title(f'confusion matrix (score ≥ {score_thr}, IoU ≥ {iou_thr})', fontsize=10)
    for i in range(n):
        for j in range(n):
            if cm[i, j]:
                ax.text(j, i, f'{pct[i, j]:.0f}', ha='center', va='center', fontsize=6,
                        color='white' if pct[i, j] > 50 else 'black')
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        import numpy as np

        from rotated_ld.evaluation.functional import ImageDets, confusion_matrix
        from rotated_ld.utils.setup_env import load_config

        cfg = load_config(args.config, args.cfg_options)
        results = load_results(args.results)
        gts, classes = load_ground_truth(cfg, args.split)
        dets, matched_gts, unlabelled = [], [], []
        for r in results:
            key = osp.abspath(r.get('img_path', ''))
            if key not in gts:
                unlabelled.append(r.get('img_path', '?'))
                continue
            p = r['pred_instances']
            dets.append(ImageDets(_boxes(p['bboxes'], key), np.asarray(p['scores'], np.float64).reshape(-1),
                                  np.asarray(p['labels'], np.int64).reshape(-1)))
            matched_gts.append(gts[key])
        if not dets:
            raise InputError(f'none of the {len(results)} result images is in the labelled dataset '
                             f'(first: {unlabelled[0] if unlabelled else "-"}); pick the dataset with --split')
        cm = confusion_matrix(dets, matched_gts, len(classes), args.score_thr, args.tp_iou_thr)
    except (InputError, OSError, ValueError, KeyError) as e:
        print(f'confusion_matrix: error: {e}', file=sys.stderr)
        return 1
    os.makedirs(args.save_dir, exist_ok=True)
    plot(cm, classes, osp.join(args.save_dir, 'confusion_matrix.png'), args.score_thr, args.tp_iou_thr)
    with open(osp.join(args.save_dir, 'confusion_matrix.json'), 'w') as f:
        json.dump(dict(classes=list(classes) + ['background'], matrix=cm.tolist(), score_thr=args.score_thr,
                       tp_iou_thr=args.tp_iou_thr, images=len(dets), unlabelled_images=len(unlabelled)), f, indent=1)
    print(f'{len(dets)} images scored' + (f'; {len(unlabelled)} result images have no labels in the dataset '
                                          f'and were not scored (first: {unlabelled[0]})' if unlabelled else ''))
    # objects per class (ignored ones excluded), counted from the labels: the matrix's diagonal counts
    # (detection, object) pairs, which can exceed the objects when detections overlap (mmdet's rules)
    objects = np.bincount(np.concatenate([g.labels[~g.ignore] for g in matched_gts] + [np.zeros(0, np.int64)]),
                          minlength=len(classes))
    print(f'{"class":20s} {"objects":>8s} {"recall":>7s}  most confused with')
    for i, name in enumerate(classes):
        row = cm[i]
        if not objects[i] and not row.any():
            continue
        other = [(int(row[j]), classes[j]) for j in range(len(classes)) if j != i and row[j]]
        worst = max(other)[1] + f' ({max(other)[0]})' if other else '-'
        recall = 1 - row[-1] / max(int(objects[i]), 1)  # the last column counts each missed object once
        print(f'{name:20s} {int(objects[i]):8d} {recall:7.1%}  {worst}')
    print(f'background false positives: {int(cm[-1, :-1].sum())}; saved to {args.save_dir}/confusion_matrix.png')
    return 0


if __name__ == '__main__':
    sys.exit(main())
