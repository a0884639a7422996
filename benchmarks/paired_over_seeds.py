"""Paired per-object gains of distillation, pooled over the seeds of ``bench_distill_gain.py``.

For each seed, the two models of a pair are scored on the same merged full scenes
(``compare_models``'s matcher: DOTA_devkit rules, TPs at IoU > 0.5); the objects both matched give
``IoU(B) − IoU(A)`` and ``angle error(B) − angle error(A)`` (modulo the box symmetry,
docs/analysis.md). Objects of all seeds are pooled; the 95 % interval is a cluster bootstrap over
(seed, image) pairs, since the objects of one image in one run are correlated.

    python benchmarks/paired_over_seeds.py --work-dir work_dirs/demo --seeds 0 1 --pair ld_edges,ld student,ld
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

import numpy as np

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..'))
sys.path.insert(0, ROOT)

from rotated_ld.evaluation.analysis.compare import score_result_sets  # noqa: E402
from rotated_ld.evaluation.analysis.paired import bootstrap_mean_ci, paired_objects  # noqa: E402
from rotated_ld.evaluation.analysis.stats import tp_stats  # noqa: E402
from rotated_ld.evaluation.functional import resolve_classes  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--work-dir', default='work_dirs/demo')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--pair', nargs='+', default=['ld_edges,ld', 'student,ld'], help='A,B: report B − A')
    p.add_argument('--bootstrap', type=int, default=2000)
    a = p.parse_args(argv)
    w = a.work_dir
    gt = osp.join(w, 'data', 'scenes', 'val', 'labelTxt')
    pairs = [tuple(x.split(',')) for x in a.pair]
    names = sorted({n for pr in pairs for n in pr})
    pooled = {pr: dict(iou=[], angle=[], group=[]) for pr in pairs}
    for seed in a.seeds:
        runs = [(n, osp.join(w, f'seed{seed}', n, 'Task1')) for n in names]
        evals, _ = score_result_sets(runs, gt, classes=resolve_classes('dota1.0'), log=lambda *_: None)
        stats = {ev.name: tp_stats(ev) for ev in evals}
        for pr in pairs:
            o = paired_objects(stats[pr[0]], stats[pr[1]])
            pooled[pr]['iou'].append(o['iou_b'] - o['iou_a'])
            pooled[pr]['angle'].append(np.degrees(o['angle_b'] - o['angle_a']))
            pooled[pr]['group'].append(seed * 10_000 + o['image'])
    print(f'seeds {a.seeds}; objects matched by both models, pooled; 95 % CI: bootstrap over (seed, image)\n')
    print('| B − A | objects | images×seeds | IoU gain | angle error change (°) |')
    print('|---|---|---|---|---|')
    for pr, d in pooled.items():
        g = np.concatenate(d['group'])
        iou = bootstrap_mean_ci(np.concatenate(d['iou']), g, a.bootstrap)
        ang = bootstrap_mean_ci(np.concatenate(d['angle']), g, a.bootstrap)
        print(f"| {pr[1]} − {pr[0]} | {iou['n']} | {iou['groups']} | {iou['mean']:+.4f} [{iou['lo']:+.4f}, "
              f"{iou['hi']:+.4f}] | {ang['mean']:+.2f} [{ang['lo']:+.2f}, {ang['hi']:+.2f}] |")
    return 0


if __name__ == '__main__':
    sys.exit(main())
