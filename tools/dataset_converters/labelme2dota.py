"""labelme JSON folder -> DOTA labelTxt folder (4-point polygons as is, others -> min-area rectangle).

Examples:
    python tools/dataset_converters/labelme2dota.py data/mine/json data/mine/labelTxt
    python tools/dataset_converters/labelme2dota.py json/ labelTxt/ --min-area 4
    python tools/analysis_tools/check_dataset.py data/mine     # then check what was written
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))  # run from a checkout

from rotated_ld.datasets.converters import convert_labelme  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], epilog=__doc__.split('\n', 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('src', help='folder of labelme *.json')
    p.add_argument('out', help='output folder for DOTA <stem>.txt files')
    p.add_argument('--min-area', type=float, default=1e-3, help='skip shapes smaller than this (px²)')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        report = convert_labelme(args.src, args.out, args.min_area)
    except FileNotFoundError as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    print(report)
    return 0


if __name__ == '__main__':
    sys.exit(main())
