"""DOTA labelTxt folder -> YOLO-OBB (Ultralytics) label folder (+ classes.txt and data.yaml names).

Examples:
    python tools/dataset_converters/dota2yolo_obb.py train/labelTxt yolo/labels --img-dir train/images --classes dota1.0
    python tools/dataset_converters/dota2yolo_obb.py labelTxt/ labels/ --img-size 1024 1024  # sorted found classes
    python tools/dataset_converters/dota2yolo_obb.py labelTxt/ labels/ --img-dir images/ --classes a,b --skip-difficult
"""
import os.path as osp
import sys
from functools import partial

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))  # run from a checkout

from rotated_ld.datasets.converters import cli, convert_dota_to_yolo_obb, load_names  # noqa: E402
from rotated_ld.utils.cli import add_debug_flag, cli_main  # noqa: E402  (torch-free)


def parse_args(argv=None):
    p = cli.converter_parser(__doc__, 'folder of DOTA labelTxt *.txt',
                             'output folder for YOLO-OBB <stem>.txt files', image_size=True)
    p.add_argument('--classes', help="class order: dota1.0 | dota1.5 | dota2.0, a .txt / data.yaml or 'a,b,c' "
                   '(default: sorted names found in the files)')
    p.add_argument('--no-clip', action='store_true', help='keep coordinates outside 0..1')
    p.add_argument('--skip-difficult', action='store_true', help='drop objects with difficulty > 0')
    add_debug_flag(p)
    return p.parse_args(argv)


@cli_main('dota2yolo_obb.py')
def main(argv=None) -> int:
    args = parse_args(argv)
    if not cli.has_image_size(args):
        return 2
    names = None
    if args.classes:
        from rotated_ld.evaluation.functional.dota_io import DOTA_CLASS_SETS

        key = args.classes.lower()
        names = list(DOTA_CLASS_SETS[key]) if key in DOTA_CLASS_SETS else load_names(args.classes)
    convert = partial(convert_dota_to_yolo_obb, args.src, args.out, names, args.img_dir, args.img_size,
                      clip=not args.no_clip, skip_difficult=args.skip_difficult)
    return cli.run_conversion(convert, footer=f'class names written to {args.out}/classes.txt and {args.out}/data.yaml')


if __name__ == '__main__':
    sys.exit(main())
