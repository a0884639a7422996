"""Print the full config after ``_base_`` inheritance and ``--cfg-options`` (as mmdet's tool).

Examples:
    python tools/misc/print_config.py configs/rotated_ld/rotated_ld_r18-rgfl-r50_fpn_1x_dota_le90.py
    python tools/misc/print_config.py CONFIG --cfg-options model.bbox_head.angle_coder.angle_bins=72 --save-path full.py
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))  # run from a checkout

from rotated_ld.utils.cli import add_debug_flag, cli_main  # noqa: E402  (torch-free)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Print the whole config',
                                epilog='examples:' + __doc__.split('Examples:')[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config', help='config file')
    p.add_argument('--save-path', help='also write the resolved config here (.py, .json or .yaml)')
    p.add_argument('--cfg-options', nargs='+', metavar='KEY=VALUE',
                   help='override config entries (xxx=yyy, lists as a,b or [a,b])')
    add_debug_flag(p)
    return p.parse_args(argv)


@cli_main('print_config.py')
def main(argv=None) -> int:
    args = parse_args(argv)
    from rotated_ld.utils.setup_env import load_config

    # upstream config names and mmdet 2.x keys are resolved as in every tool (notices on stderr)
    cfg = load_config(args.config, args.cfg_options)
    print(cfg.pretty_text)
    if args.save_path:
        cfg.dump(args.save_path)
        print(f'saved to {args.save_path}', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
