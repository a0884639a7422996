"""YOLO-OBB (Ultralytics) label folder -> DOTA labelTxt folder.

Image sizes come from the images' headers (--img-dir) or --img-size W H; class names from
--names (data.yaml, classes.txt or 'a,b,c').

Examples:
    python tools/dataset_converters/yolo_obb2dota.py labels/train labelTxt --img-dir images/train --names dota8.yaml
    python tools/dataset_converters/yolo_obb2dota.py labels/ labelTxt/ --img-size 1024 1024 --names plane,ship
    python tools/dataset_converters/yolo_obb2dota.py labels/ labelTxt/ --img-dir images/ --names classes.txt
"""
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))  # run from a checkout

from rotated_ld.datasets.converters import cli, convert_yolo_obb_to_dota, load_names  # noqa: E402
from rotated_ld.utils.cli import add_debug_flag, cli_main  # noqa: E402  (torch-free)


def parse_args(argv=None):
    p = cli.converter_parser(__doc__, 'folder of YOLO-OBB *.txt (class x1 y1 ... x4 y4, normalised)',
                             'output folder for DOTA <stem>.txt files', image_size=True)
    p.add_argument('--names', help="class names: data.yaml, a .txt (one per line) or 'a,b,c' "
                   '(default: the class index is the name)')
    cli.add_min_area(p, 'boxes')
    add_debug_flag(p)
    return p.parse_args(argv)


@cli_main('yolo_obb2dota.py')
def main(argv=None) -> int:
    args = parse_args(argv)
    if not cli.has_image_size(args):
        return 2
    return cli.run_conversion(lambda: convert_yolo_obb_to_dota(args.src, args.out, load_names(args.names),
                                                               args.img_dir, args.img_size, args.min_area))


if __name__ == '__main__':
    sys.exit(main())
