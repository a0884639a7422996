"""Write synthetic large aerial scenes in DOTA layout: ``OUT/{train,val,...}/{images,labelTxt}``.

All 15 DOTA v1.0 classes, textured ground, coast/river/roads, dense clusters, border-cut
objects, difficulty flags and the ``imagesource:`` / ``gsd:`` header lines. Deterministic per
``--seed``. Generator code: :mod:`rotated_ld.datasets.synthetic.aerial`.

Examples:
    python tools/data/synthetic/make_dota_scenes.py --out data/synthetic_dota
    python tools/data/synthetic/make_dota_scenes.py --out data/syn --splits train:40 val:10 --size 1500 2500
    python tools/data/synthetic/make_dota_scenes.py --out data/big --splits test:5 --size 4000 6000 --nproc 2
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..')))

from rotated_ld.utils.cli import add_debug_flag, cli_main  # noqa: E402  (torch-free)
from rotated_ld.datasets.synthetic import make_dota_scenes  # noqa: E402


def parse_split(text: str):
    name, _, num = text.partition(':')
    if not name or not num.isdigit():
        raise argparse.ArgumentTypeError(f'split {text!r}: expected NAME:COUNT, e.g. train:20')
    return name, int(num)


@cli_main('make_dota_scenes.py')
def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', required=True, help='output root; one sub-folder per split')
    p.add_argument('--splits', nargs='+', type=parse_split, default=[('train', 20), ('val', 5)],
                   help='NAME:COUNT pairs (default: train:20 val:5)')
    p.add_argument('--size', nargs=2, type=int, default=[1500, 2500], metavar=('MIN', 'MAX'),
                   help='scene side length range in pixels (default 1500 2500)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--density', type=float, default=1.0, help='object density multiplier')
    p.add_argument('--ext', default='.png', choices=['.png', '.jpg', '.tif', '.bmp'])
    p.add_argument('--nproc', type=int, default=1)
    add_debug_flag(p)
    args = p.parse_args(argv)
    if args.size[0] < 64 or args.size[1] < args.size[0]:
        p.error(f'--size {args.size}: need 64 <= MIN <= MAX')
    start = 0
    for name, num in args.splits:
        t = time.time()
        # scene indices continue across splits, so splits never share a scene
        make_dota_scenes(osp.join(args.out, name), num=num, size_range=tuple(args.size), seed=args.seed,
                         ext=args.ext, start=start, density=args.density, nproc=args.nproc)
        start += num
        print(f'{name}: {num} scenes -> {osp.join(args.out, name)} ({time.time() - t:.1f} s)')


if __name__ == '__main__':
    sys.exit(main())
