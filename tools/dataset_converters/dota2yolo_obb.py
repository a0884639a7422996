"""DOTA labelTxt folder -> YOLO-OBB (Ultralytics) label folder (+ classes.txt and data.yaml names).

Examples:
    python tools/dataset_converters/dota2yolo_obb.py train/labelTxt yolo/labels --img-dir train/images --classes dota1.0
    python tools/dataset_converters/dota2yolo_obb.py labelTxt/ labels/ --img-size 1024 1024  # sorted found classes
    python tools/dataset_converters/dota2yolo_obb.py labelTxt/ labels/ --img-dir images/ --classes a,b --skip-difficult
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))  # run from a checkout

from rotated_ld.datasets.converters import convert_dota_to_yolo_obb, load_names  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], epilog=__doc__.split('\n', 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('src', help='folder of DOTA labelTxt *.txt')
    p.add_argument('out', help='output folder for YOLO-OBB <stem>.txt files')
    p.add_argument('--img-dir', help='images with the same stems (their size is read from the header)')
    p.add_argument('--img-size', type=int, nargs=2, metavar=('W', 'H'), help='size of images not in --img-dir')
    p.add_argument('--classes', help="class order: dota1.0 | dota1.5 | dota2.0, a .txt / data.yaml or 'a,b,c' "
                   '(default: sorted names found in the files)')
    p.add_argument('--no-clip', action='store_true', help='keep coordinates outside 0..1')
    p.add_argument('--skip-difficult', action='store_true', help='drop objects with difficulty > 0')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not args.img_dir and not args.img_size:
        print('error: give --img-dir (image sizes from headers) or --img-size W H', file=sys.stderr)
        return 2
    names = None
    if args.classes:
        from rotated_ld.evaluation.functional.dota_io import DOTA_CLASS_SETS

        key = args.classes.lower()
        names = list(DOTA_CLASS_SETS[key]) if key in DOTA_CLASS_SETS else load_names(args.classes)
    try:
        report = convert_dota_to_yolo_obb(args.src, args.out, names, args.img_dir, args.img_size,
                                          clip=not args.no_clip, skip_difficult=args.skip_difficult)
    except (FileNotFoundError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    print(report)
    print(f'class names written to {args.out}/classes.txt and {args.out}/data.yaml')
    return 0


if __name__ == '__main__':
    sys.exit(main())
