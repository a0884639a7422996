"""YOLO-OBB (Ultralytics) label folder -> DOTA labelTxt folder.

Image sizes come from the images' headers (--img-dir) or --img-size W H; class names from
--names (data.yaml, classes.txt or 'a,b,c').

Examples:
    python tools/dataset_converters/yolo_obb2dota.py labels/train labelTxt --img-dir images/train --names dota8.yaml
    python tools/dataset_converters/yolo_obb2dota.py labels/ labelTxt/ --img-size 1024 1024 --names plane,ship
    python tools/dataset_converters/yolo_obb2dota.py labels/ labelTxt/ --img-dir images/ --names classes.txt
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))  # run from a checkout

from rotated_ld.datasets.converters import convert_yolo_obb_to_dota, load_names  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], epilog=__doc__.split('\n', 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('src', help='folder of YOLO-OBB *.txt (class x1 y1 ... x4 y4, normalised)')
    p.add_argument('out', help='output folder for DOTA <stem>.txt files')
    p.add_argument('--img-dir', help='images with the same stems (their size is read from the header)')
    p.add_argument('--img-size', type=int, nargs=2, metavar=('W', 'H'), help='size of images not in --img-dir')
    p.add_argument('--names', help="class names: data.yaml, a .txt (one per line) or 'a,b,c' "
                   '(default: the class index is the name)')
    p.add_argument('--min-area', type=float, default=1e-3, help='skip boxes smaller than this (px²)')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not args.img_dir and not args.img_size:
        print('error: give --img-dir (image sizes from headers) or --img-size W H', file=sys.stderr)
        return 2
    try:
        report = convert_yolo_obb_to_dota(args.src, args.out, load_names(args.names), args.img_dir,
                                          args.img_size, args.min_area)
    except (FileNotFoundError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    print(report)
    return 0


if __name__ == '__main__':
    sys.exit(main())
