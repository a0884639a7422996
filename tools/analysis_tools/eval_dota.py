"""Score DOTA Task1 result files against full-image labelTxt files (drop-in for DOTA_devkit's scorer).

Same rules as ``dota_evaluation_task1.py`` (see ``rotated_ld/evaluation/functional/mean_ap.py``),
no SWIG build, vectorised: seconds for a full val set. Prints the per-class table and the mAP
with 4 decimals; ``--out`` writes the numbers as JSON.

Examples:
    python tools/analysis_tools/eval_dota.py --gt data/DOTA/val/labelTxt --det work_dirs/x/Task1
    python tools/analysis_tools/eval_dota.py --gt labelTxt --det Task1 --metric area --iou-thr 0.7
    python tools/analysis_tools/eval_dota.py --gt labelTxt --det Task1 --classes dota1.5 --out r.json
"""
from __future__ import annotations

import argparse
import json
import os.path as osp
import sys
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))  # run from a checkout

from rotated_ld.utils.cli import InputError, add_debug_flag, cli_main  # noqa: E402  (torch-free)

METRICS = {'voc07': '11points', 'area': 'area'}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='DOTA Task1 mAP (DOTA_devkit rules) of Task1_<class>.txt files',
        epilog='examples:' + __doc__.split('Examples:')[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--gt', required=True, help='folder of full-image labelTxt files (<image>.txt)')
    parser.add_argument('--det', required=True, help='folder of Task1_<class>.txt result files')
    parser.add_argument('--metric', default='voc07', choices=sorted(METRICS),
                        help='voc07 = 11-point AP (devkit default), area = area under the PR curve')
    parser.add_argument('--iou-thr', type=float, default=0.5, help='match when IoU > thr (default 0.5)')
    parser.add_argument('--coco-thrs', action='store_true',
                        help='also print AP75 and mAP@[.5:.95] (devkit matching at 0.50:0.05:0.95)')
    parser.add_argument('--classes', default='dota1.0', help='dota1.0 | dota1.5 | dota2.0 (default dota1.0)')
    parser.add_argument('--out', help='write results as JSON to this file')
    add_debug_flag(parser)
    return parser.parse_args(argv)


def det_warnings(det_dir: str, notes: dict, gts: dict, classes) -> list:
    """Loud lines for what scores without an error but changes the result: class files that are
    missing (their classes score AP 0 where they have objects), files that are not ``Task1_*.txt``,
    duplicate rows (false positives, as in the devkit)."""
    out = []
    missing = notes.get('missing_files') or []
    if missing:
        c2i = {c: i for i, c in enumerate(classes)}
        n_obj = {f: sum(int((g['labels'] == c2i[f[6:-4]]).sum()) for g in gts.values()) for f in missing}
        hurt = [f'{f} ({n} objects)' for f, n in n_obj.items() if n]
        out.append(f'{det_dir}: {len(missing)} of {len(classes)} class files missing: '
                   + ', '.join(missing[:6]) + (f', ... {len(missing) - 6} more' if len(missing) > 6 else '')
                   + (f'; scored AP 0: {", ".join(hurt)}' if hurt else '; none of these classes has ground truth')
                   + ' (write an empty Task1_<class>.txt for a class without detections)')
    if notes.get('other_files'):
        other = notes['other_files']
        out.append(f'{det_dir}: {len(other)} files ignored (not Task1_<class>.txt): ' + ', '.join(other[:6])
                   + (f', ... {len(other) - 6} more' if len(other) > 6 else ''))
    for fname, n in (notes.get('duplicates') or {}).items():
        out.append(f'{osp.join(det_dir, fname)}: {n} duplicate rows (the same image, score and polygon as an '
                   'earlier row); each copy is scored as a false positive, as in the DOTA devkit')
    return out


@cli_main('eval_dota.py')
def main(argv=None) -> int:
    args = parse_args(argv)
    from rotated_ld.evaluation.functional import (
        COCO_IOU_THRS,
        eval_map,
        load_labeltxt_dir,
        load_task1_dir,
        resolve_classes,
    )

    if not 0.0 <= args.iou_thr < 1.0:
        raise InputError(f'--iou-thr {args.iou_thr} must be in [0, 1)')
    t0 = time.perf_counter()
    # bad folders or files: ValueError / OSError naming file:line, one line and exit 2 (utils.cli)
    classes = resolve_classes(args.classes)
    gts = load_labeltxt_dir(args.gt, classes)
    notes: dict = {}
    dets = load_task1_dir(args.det, classes, gts, notes)
    for line in det_warnings(args.det, notes, gts, classes):
        print(f'eval_dota.py: warning: {line}', file=sys.stderr)
    images = list(gts)
    empty = dict(bboxes=[], scores=[], labels=[])
    thrs = [args.iou_thr]
    if args.coco_thrs:
        thrs += [t for t in COCO_IOU_THRS if abs(t - args.iou_thr) > 1e-9]
    res = eval_map([dets.get(i, empty) for i in images], [gts[i] for i in images], classes, iou_thrs=thrs,
                   mode=METRICS[args.metric], box_type='poly', strict=True)
    t1 = time.perf_counter()
    n_det = int(res.num_dets.sum())
    print(res.table(thr_index=0, digits=4))
    print(f'mAP: {res.mean_ap[0]:.4f}')
    if args.coco_thrs:
        idx = [thrs.index(t) for t in thrs if any(abs(t - c) < 1e-9 for c in COCO_IOU_THRS)]
        print(f'AP50: {res.map_at(0.5):.4f}  AP75: {res.map_at(0.75):.4f}  '
              f'mAP@[.5:.95]: {float(res.mean_ap[idx].mean()):.4f}')
    # in = out: every object read is scored (difficult ones as ignored), every detection is scored
    gt_read = sum(len(g['labels']) + len(g['labels_ignore']) for g in gts.values())
    n_diff = sum(len(g['labels_ignore']) for g in gts.values())
    det_read = sum(len(d['scores']) for d in dets.values())
    balance = dict(gt_read=gt_read, gt_scored=int(res.num_gts.sum()), gt_difficult=n_diff, det_read=det_read,
                   det_scored=n_det)
    print(f'{len(images)} images, {n_det} detections, {t1 - t0:.2f} s')
    print(f'balance: ground truth read {gt_read} = scored {balance["gt_scored"]} + difficult (ignored) {n_diff}; '
          f'detections read {det_read} = scored {n_det}')
    if gt_read != balance['gt_scored'] + n_diff or det_read != n_det:  # a bug, not bad input
        raise RuntimeError('object counts do not balance (see the line above)')
    if args.out:
        out = res.to_dict()
        out.update(gt=args.gt, det=args.det, metric=args.metric, class_set=args.classes, images=len(images),
                   balance=balance, missing_class_files=notes['missing_files'], ignored_files=notes['other_files'],
                   duplicate_rows=notes['duplicates'])
        with open(args.out, 'w') as f:
            json.dump(out, f, indent=2)
        print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
