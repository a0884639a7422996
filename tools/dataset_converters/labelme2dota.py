"""labelme JSON folder -> DOTA labelTxt folder (4-point polygons as is, others -> min-area rectangle).

Examples:
    python tools/dataset_converters/labelme2dota.py data/mine/json data/mine/labelTxt
    python tools/dataset_converters/labelme2dota.py json/ labelTxt/ --min-area 4
    python tools/analysis_tools/check_dataset.py data/mine     # then check what was written
"""
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))  # run from a checkout

from rotated_ld.datasets.converters import cli, convert_labelme  # noqa: E402
from rotated_ld.utils.cli import add_debug_flag, cli_main  # noqa: E402  (torch-free)


def parse_args(argv=None):
    p = cli.converter_parser(__doc__, 'folder of labelme *.json', 'output folder for DOTA <stem>.txt files')
    cli.add_min_area(p, 'shapes')
    add_debug_flag(p)
    return p.parse_args(argv)


@cli_main('labelme2dota.py')
def main(argv=None) -> int:
    args = parse_args(argv)
    return cli.run_conversion(lambda: convert_labelme(args.src, args.out, args.min_area),
                              errors=(FileNotFoundError,))


if __name__ == '__main__':
    sys.exit(main())
