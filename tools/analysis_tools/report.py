"""One self-contained HTML report of a detector's results: metric table, PR curves, confusion matrix,
TIDE-style error breakdown, error statistics of matched objects and sample pictures (all images
embedded as base64; opens offline). ``tools/test.py CONFIG CKPT --report DIR`` writes the same page.

Examples:
    python tools/test.py CONFIG CKPT --out results.pkl
    python tools/analysis_tools/report.py results.pkl --gt CONFIG --out report.html
    python tools/analysis_tools/report.py work_dirs/x/Task1 --gt data/DOTA/val/labelTxt --classes dota1.0 \\
        --img-dir data/DOTA/val/images --out report.html
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))  # run from a checkout


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Self-contained HTML report of detection results',
                                epilog='examples:' + __doc__.split('Examples:')[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('results', help='results .pkl from tools/test.py --out, or a Task1 folder')
    p.add_argument('--gt', required=True, help='labelTxt folder or config file (its labelled test/val dataset)')
    p.add_argument('--out', required=True, help='the .html file to write')
    p.add_argument('--classes', default=None, help="with a labelTxt --gt: 'dota1.0' | 'dota1.5' | 'dota2.0' | 'a,b,c'")
    p.add_argument('--split', choices=['auto', 'test', 'val'], default='auto', help='config dataset (default auto)')
    p.add_argument('--merge', action='store_true', help='merge a patch dump to full scenes before scoring')
    p.add_argument('--img-dir', help='images for the sample pictures (default: the paths in the dump / dataset)')
    p.add_argument('--score-thr', type=float, default=0.3, help='score threshold of pictures and confusion matrix')
    p.add_argument('--samples', type=int, default=4, help='sample pictures (default 4)')
    p.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE', help='override config entries')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        from rotated_ld.evaluation.analysis.html_report import write_report
        from rotated_ld.evaluation.functional import resolve_classes

        classes = resolve_classes(args.classes if ',' not in (args.classes or '') else args.classes.split(',')) \
            if args.classes else None
        out = write_report(args.results, args.gt, args.out, classes, args.split, args.merge, args.img_dir,
                           args.score_thr, args.samples, args.cfg_options)
    except (OSError, ValueError, KeyError) as e:
        print(f'report: error: {e}', file=sys.stderr)
        return 1
    print(f'report written to {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
