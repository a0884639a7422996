"""roLabelImg / labelImg XML folder -> DOTA labelTxt folder.

Examples:
    python tools/dataset_converters/rolabelimg2dota.py data/mine/xml data/mine/labelTxt
    python tools/dataset_converters/rolabelimg2dota.py ann_xml/ labelTxt/ --min-area 4
    python tools/analysis_tools/check_dataset.py data/mine     # then check what was written
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))  # run from a checkout

from rotated_ld.datasets.converters import convert_rolabelimg  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], epilog=__doc__.split('\n', 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('src', help='folder of roLabelImg *.xml (robndbox and/or bndbox objects)')
    p.add_argument('out', help='output folder for DOTA <stem>.txt files')
    p.add_argument('--min-area', type=float, default=1e-3, help='skip boxes smaller than this (px²)')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        report = convert_rolabelimg(args.src, args.out, args.min_area)
    except FileNotFoundError as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    print(report)
    return 0


if __name__ == '__main__':
    sys.exit(main())
