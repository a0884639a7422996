"""Write small synthetic horizontal-box sets in COCO json and/or Pascal VOC xml layout.

Generator code: :mod:`rotated_ld.datasets.synthetic.hbox`. Deterministic per ``--seed``.

Examples:
    python tools/data/synthetic/make_hbox_sets.py --out data/synthetic_hbox
    python tools/data/synthetic/make_hbox_sets.py --out data/syn --layout coco --num-train 200 --num-val 50
    python tools/data/synthetic/make_hbox_sets.py --out data/syn --layout voc --size 256 320
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..')))

from rotated_ld.utils.cli import add_debug_flag, cli_main  # noqa: E402  (torch-free)
from rotated_ld.datasets.synthetic import write_coco_set, write_voc_set  # noqa: E402


@cli_main('make_hbox_sets.py')
def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', required=True)
    p.add_argument('--layout', choices=['coco', 'voc', 'both'], default='both')
    p.add_argument('--num-train', type=int, default=64)
    p.add_argument('--num-val', type=int, default=16)
    p.add_argument('--size', nargs=2, type=int, default=[320, 416], metavar=('MIN', 'MAX'))
    p.add_argument('--seed', type=int, default=0)
    add_debug_flag(p)
    args = p.parse_args(argv)
    t = time.time()
    if args.layout in ('coco', 'both'):
        paths = write_coco_set(osp.join(args.out, 'coco'), {'train2017': args.num_train,
                                                           'val2017': args.num_val},
                               tuple(args.size), args.seed)
        print('COCO:', ', '.join(paths.values()))
    if args.layout in ('voc', 'both'):
        root = write_voc_set(args.out, {'train': args.num_train, 'val': args.num_val, 'test': args.num_val},
                             tuple(args.size), args.seed)
        print('VOC:', root)
    print(f'done in {time.time() - t:.1f} s')


if __name__ == '__main__':
    sys.exit(main())
