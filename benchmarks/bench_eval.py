"""Benchmark: DOTA Task1 scoring of a large synthetic set (default 400 full images, 15 classes, ~100k dets).

Times (single process, this machine):
  1. ``eval_map`` in memory at IoU 0.5 (the DOTAMetric / devkit number),
  2. the same with the 10 COCO thresholds (AP50, AP75, mAP@[.5:.95]),
  3. end to end through files: write ``Task1_<class>.txt`` + labelTxt, then the
     ``tools/analysis_tools/eval_dota.py`` path (parse + score),
  4. optionally (``--merge``) the patch merge of the same detections split into 1024 windows.

Target: 100k detections over 400 images scored in under 10 s.

Usage:
    python benchmarks/bench_eval.py                      # defaults
    python benchmarks/bench_eval.py --images 100 --dets-per-image 250 --merge
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))


def make_set(n_img: int, dets_per_img: int, gts_per_img: int, size: float, seed: int = 0):
    """GT rotated boxes per image; detections = jittered GT (80%), duplicates and false positives."""
    from rotated_ld.evaluation.functional import rbox2poly_np

    rng = np.random.default_rng(seed)
    dets, anns = [], []
    for _ in range(n_img):
        g = np.stack([rng.uniform(0, size, gts_per_img), rng.uniform(0, size, gts_per_img),
                      rng.uniform(10, 120, gts_per_img), rng.uniform(6, 60, gts_per_img),
                      rng.uniform(-np.pi / 2, np.pi / 2, gts_per_img)], 1)
        lab = rng.integers(0, 15, gts_per_img)
        diff = rng.random(gts_per_img) < 0.05
        polys = rbox2poly_np(g)
        anns.append(dict(bboxes=polys[~diff], labels=lab[~diff], bboxes_ignore=polys[diff], labels_ignore=lab[diff]))
        hit = rng.random(gts_per_img) < 0.8
        n_hit = int(hit.sum())
        n_dup = min(n_hit, dets_per_img // 5)
        n_fp = max(dets_per_img - n_hit - n_dup, 0)
        jit = g[hit] + rng.normal(0, 1, (n_hit, 5)) * [3, 3, 4, 3, 0.1]
        dup = jit[:n_dup] + rng.normal(0, 1, (n_dup, 5)) * [6, 6, 6, 6, 0.2]
        # false positives: half near objects (crowded, overlapping), half anywhere
        near = g[rng.integers(0, gts_per_img, n_fp // 2)] + rng.normal(0, 1, (n_fp // 2, 5)) * [40, 40, 5, 5, 0.5]
        far = np.stack([rng.uniform(0, size, n_fp - n_fp // 2), rng.uniform(0, size, n_fp - n_fp // 2),
                        rng.uniform(10, 120, n_fp - n_fp // 2), rng.uniform(6, 60, n_fp - n_fp // 2),
                        rng.uniform(-np.pi / 2, np.pi / 2, n_fp - n_fp // 2)], 1)
        boxes = np.concatenate([jit, dup, near, far])
        boxes[:, 2:4] = np.abs(boxes[:, 2:4]) + 2
        labels = np.concatenate([lab[hit], lab[hit][:n_dup], rng.integers(0, 15, n_fp)])
        scores = np.concatenate([rng.uniform(0.3, 1, n_hit), rng.uniform(0.05, 0.8, n_dup),
                                 rng.uniform(0.01, 0.6, n_fp)])
        dets.append(dict(bboxes=rbox2poly_np(boxes), scores=scores, labels=labels, rboxes=boxes))
    return dets, anns


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--images', type=int, default=400)
    p.add_argument('--dets-per-image', type=int, default=250)
    p.add_argument('--gts-per-image', type=int, default=100)
    p.add_argument('--size', type=float, default=4000.0, help='image side in pixels')
    p.add_argument('--backend', default='numpy', help='polygon IoU backend: numpy | ops | shapely')
    p.add_argument('--no-files', action='store_true', help='skip the Task1 file round trip')
    p.add_argument('--merge', action='store_true', help='also time the patch merge')
    args = p.parse_args(argv)

    from rotated_ld.datasets.dota import DOTA_V1_0
    from rotated_ld.evaluation.functional import COCO_IOU_THRS, eval_map

    t = time.perf_counter()
    dets, anns = make_set(args.images, args.dets_per_image, args.gts_per_image, args.size)
    n_det = sum(len(d['scores']) for d in dets)
    n_gt = sum(len(a['labels']) + len(a['labels_ignore']) for a in anns)
    print(f'set: {args.images} images, 15 classes, {n_det} detections, {n_gt} ground truths '
          f'(generated in {time.perf_counter() - t:.1f} s)')

    t = time.perf_counter()
    res = eval_map(dets, anns, DOTA_V1_0, iou_thrs=0.5, iou_backend=args.backend)
    dt = time.perf_counter() - t
    print(f'eval_map IoU 0.5 (devkit rules):  {dt:6.2f} s  {n_det / dt:10.0f} dets/s   mAP {res.map:.4f}')
    t = time.perf_counter()
    res10 = eval_map(dets, anns, DOTA_V1_0, iou_thrs=COCO_IOU_THRS, iou_backend=args.backend)
    dt10 = time.perf_counter() - t
    print(f'eval_map 10 thresholds:           {dt10:6.2f} s  {n_det / dt10:10.0f} dets/s   '
          f'AP50 {res10.map_at(0.5):.4f} AP75 {res10.map_at(0.75):.4f} mAP@[.5:.95] {res10.mean_ap.mean():.4f}')

    if not args.no_files:
        from rotated_ld.evaluation.functional import write_task1
        from tools.analysis_tools.eval_dota import main as eval_dota

        with tempfile.TemporaryDirectory() as tmp:
            names = [f'P{i:04d}' for i in range(len(dets))]
            write_task1(dict(zip(names, dets)), DOTA_V1_0, osp.join(tmp, 'det'))
            gt_dir = osp.join(tmp, 'gt')
            import os
            os.makedirs(gt_dir)
            for name, a in zip(names, anns):
                with open(osp.join(gt_dir, f'{name}.txt'), 'w') as f:
                    for key, lkey, d in (('bboxes', 'labels', 0), ('bboxes_ignore', 'labels_ignore', 1)):
                        for poly, lab in zip(a[key], a[lkey]):
                            f.write(' '.join(f'{v:.2f}' for v in poly) + f' {DOTA_V1_0[lab]} {d}\n')
            import contextlib
            import io
            t = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()) as buf:
                eval_dota(['--gt', gt_dir, '--det', osp.join(tmp, 'det')])
            dtf = time.perf_counter() - t
            cli_map = [ln for ln in buf.getvalue().splitlines() if ln.startswith('mAP:')][0]
            print(f'eval_dota.py (parse + score):     {dtf:6.2f} s  {n_det / dtf:10.0f} dets/s   {cli_map}')

    if args.merge:
        from rotated_ld.evaluation.functional import merge_results

        names, results = [], []
        for i, d in enumerate(dets):
            rb = d['rboxes']
            for y in range(0, int(args.size), 824):
                for x in range(0, int(args.size), 824):
                    m = (rb[:, 0] >= x) & (rb[:, 0] < x + 824) & (rb[:, 1] >= y) & (rb[:, 1] < y + 824)
                    b = rb[m].copy()
                    b[:, 0] -= x
                    b[:, 1] -= y
                    names.append(f'P{i:04d}__1024__{x}___{y}')
                    results.append(dict(bboxes=b, scores=d['scores'][m], labels=d['labels'][m]))
        t = time.perf_counter()
        _, stats = merge_results(names, results, iou_thr=0.1)
        dtm = time.perf_counter() - t
        print(f'merge_results ({len(names)} patches): {dtm:6.2f} s  {n_det / dtm:10.0f} dets/s   {stats}')
    target = 'OK' if dt < 10 else 'SLOWER THAN TARGET'
    print(f'target: {n_det} detections / {args.images} images in < 10 s -> {dt:.2f} s ({target})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
