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

from rotated_ld.utils.cli import InputError, add_debug_flag, cli_main  # noqa: E402  (torch-free)


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
    add_debug_flag(p)
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


@cli_main('confusion_matrix.py')
def main(argv=None) -> int:
    args = parse_args(argv)
    import numpy as np

    from rotated_ld.evaluation.analysis.loading import dataset_ground_truth, load_dump
    from rotated_ld.evaluation.functional import ImageDets, confusion_matrix
    from rotated_ld.utils.setup_env import load_config

    cfg = load_config(args.config, args.cfg_options)
    results = load_dump(args.results)
    gts, classes = dataset_ground_truth(cfg, args.split)
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
    from rotated_ld.evaluation.analysis.plots import plot_confusion_matrix

    os.makedirs(args.save_dir, exist_ok=True)
    plot_confusion_matrix(cm, classes, osp.join(args.save_dir, 'confusion_matrix.png'), args.score_thr, args.tp_iou_thr)
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
