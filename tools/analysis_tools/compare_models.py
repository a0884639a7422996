"""Compare detectors beyond mAP on one ground truth: localization and angle errors, paired per-object
gains with bootstrap confidence intervals, TIDE-style error breakdown, plots and picture galleries.

Results: ``NAME=PATH`` per model, PATH a ``tools/test.py --out`` pickle (patch or image level) or a
DOTA Task1 folder. Ground truth (``--gt``): a labelTxt folder (patches or full scenes; ``--classes``)
or a config whose test / val dataset has labels. ``--merge`` merges patch dumps to full scenes
(per-class rotated NMS at IoU 0.1, as DOTAMetric) to score against full-scene labelTxt.
Rules and outputs: docs/analysis.md.

Examples:
    python tools/test.py CONFIG_A CKPT_A --out a.pkl && python tools/test.py CONFIG_B CKPT_B --out b.pkl
    python tools/analysis_tools/compare_models.py --gt CONFIG_A --results student=a.pkl ld=b.pkl --out-dir cmp
    python tools/analysis_tools/compare_models.py --gt data/DOTA/val/labelTxt --classes dota1.0 --merge \\
        --img-dir data/DOTA/val/images --results edge=edge.pkl angle=angle.pkl --pair edge,angle --out-dir cmp
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))  # run from a checkout


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Compare detectors: error statistics, paired gains, error breakdown',
                                epilog='examples:' + __doc__.split('Examples:')[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--gt', required=True, help='labelTxt folder or config file (its labelled test/val dataset)')
    p.add_argument('--results', nargs='+', required=True, metavar='NAME=PATH',
                   help='result sets: .pkl from tools/test.py --out, or a Task1 folder')
    p.add_argument('--out-dir', required=True, help='where summary.md / summary.json / *.png / galleries go')
    p.add_argument('--classes', default=None, help="with a labelTxt --gt: 'dota1.0' | 'dota1.5' | 'dota2.0' | 'a,b,c'")
    p.add_argument('--split', choices=['auto', 'test', 'val'], default='auto', help='config dataset (default auto)')
    p.add_argument('--merge', action='store_true', help='merge patch dumps to full scenes before scoring')
    p.add_argument('--img-dir', help='images for the galleries (default: the paths in the dumps / dataset)')
    p.add_argument('--pair', nargs='*', default=None, metavar='A,B',
                   help='paired comparisons B − A (default: the first model against each other one)')
    p.add_argument('--square-ratio', type=float, default=1.2,
                   help='objects with long/short side < this are near-square: angle error modulo 90° (default 1.2)')
    p.add_argument('--voc-rule', action='store_true', help='match at IoU >= thr (VOC/mmdet) instead of > thr (DOTA)')
    p.add_argument('--bootstrap', type=int, default=2000, help='bootstrap resamples over images (default 2000)')
    p.add_argument('--seed', type=int, default=0, help='bootstrap seed (default 0)')
    p.add_argument('--gallery', type=int, default=8, help='objects per gallery (0: none; default 8)')
    p.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE', help='override config entries')
    return p.parse_args(argv)


def _named(items) -> list[tuple[str, str]]:
    out = []
    for it in items:
        name, sep, path = it.partition('=')
        if not sep or not name or not path:
            raise ValueError(f'--results {it!r}: expected NAME=PATH')
        if name in [n for n, _ in out]:
            raise ValueError(f'--results: model name {name!r} given twice')
        out.append((name, path))
    return out


def _pairs(spec, names) -> list[tuple[int, int]]:
    if spec is None:
        return [(0, k) for k in range(1, len(names))]
    out = []
    for s in spec:
        a, sep, b = s.partition(',')
        if not sep or a not in names or b not in names:
            raise ValueError(f'--pair {s!r}: expected A,B with model names from --results ({", ".join(names)})')
        out.append((names.index(a), names.index(b)))
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        from rotated_ld.evaluation.analysis.compare import compare_models, score_result_sets
        from rotated_ld.evaluation.functional import resolve_classes

        models = _named(args.results)
        names = [n for n, _ in models]
        pairs = _pairs(args.pair, names)
        classes = resolve_classes(args.classes if ',' not in (args.classes or '') else args.classes.split(',')) \
            if args.classes else None
        evals, img_paths = score_result_sets(models, args.gt, classes, args.split, args.merge, args.img_dir,
                                             not args.voc_rule, args.cfg_options)
        cmp = compare_models(evals, pairs, args.square_ratio, args.bootstrap, args.seed, strict=not args.voc_rule)
    except (OSError, ValueError, KeyError) as e:
        print(f'compare_models: error: {e}', file=sys.stderr)
        return 1
    from rotated_ld.evaluation.analysis.compare import to_markdown, write_galleries, write_plots

    os.makedirs(args.out_dir, exist_ok=True)
    plots = write_plots(cmp, args.out_dir)
    galleries = write_galleries(cmp, img_paths, args.out_dir, args.gallery) if args.gallery > 0 and pairs else {}
    with open(osp.join(args.out_dir, 'summary.json'), 'w') as f:
        json.dump(cmp.summary, f, indent=1)
    md = to_markdown(cmp.summary, plots, galleries)
    with open(osp.join(args.out_dir, 'summary.md'), 'w') as f:
        f.write(md)
    print(md.split('## Rules')[0].rstrip())
    print(f'\nsaved to {args.out_dir}/summary.md, summary.json, {len(plots)} plots, {len(galleries)} galleries')
    return 0


if __name__ == '__main__':
    sys.exit(main())
