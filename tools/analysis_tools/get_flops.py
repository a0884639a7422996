"""Parameters and FLOPs of a detector (and of its teacher, for an LD / KD config).

Counted as mmdet 3.x's ``get_flops.py`` does, with MMEngine's fvcore-style ``FlopAnalyzer``
(one multiply-add = one "FLOP"; element-wise ops not counted), on the network only: preprocessing normalisation
+ backbone + neck + head forward on one ``--shape`` image. Anchors / priors, decoding and NMS are
not counted (as in mmdet). Parameters are those of the built model (a KD config: the student;
``--teacher`` adds a row for the teacher built from ``teacher_config`` and the student/teacher ratios).

Examples:
    python tools/analysis_tools/get_flops.py configs/rotated_gfl/rotated_gfl_r50_fpn_1x_dota_le90.py
    python tools/analysis_tools/get_flops.py configs/rotated_ld/rotated_ld_r18-rgfl-r50_fpn_1x_dota_le90.py --teacher
    python tools/analysis_tools/get_flops.py CONFIG --shape 384 384 --out flops.json
"""
from __future__ import annotations

import argparse
import json
import os.path as osp
import sys
import warnings

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))  # run from a checkout

from rotated_ld.utils.cli import add_debug_flag, cli_main  # noqa: E402  (torch-free)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Parameters and FLOPs of a detector (and its teacher)',
                                epilog='examples:' + __doc__.split('Examples:')[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config', help='config file')
    p.add_argument('--shape', type=int, nargs='+', default=[1024, 1024], metavar='S',
                   help='input size: S (square) or H W (default 1024 1024, a DOTA patch)')
    p.add_argument('--teacher', action='store_true', help='also count the teacher of an LD / KD config')
    p.add_argument('--out', help='write the numbers as json')
    p.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE', help='override config entries')
    add_debug_flag(p)
    args = p.parse_args(argv)
    if len(args.shape) not in (1, 2) or min(args.shape) <= 0:
        p.error(f'--shape {args.shape}: give S or H W (positive)')
    args.shape = args.shape * 2 if len(args.shape) == 1 else args.shape
    return args


def complexity(model, shape) -> dict:
    """``dict(params, flops)`` of ``model``'s network (see module docstring) on a ``(1, 3, H, W)`` input."""
    import torch
    from mmengine.analysis import FlopAnalyzer, parameter_count

    from rotated_ld.deployment.export import DenseExportWrapper

    net = DenseExportWrapper(model.eval()).eval()
    x = torch.zeros(1, 3, int(shape[0]), int(shape[1]))
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter('ignore')  # tracer notes
        # element-wise ops (BN, ReLU, add) are not counted, as in mmdet: no per-op warning lines
        flops = FlopAnalyzer(net, (x,)).unsupported_ops_warnings(False).uncalled_modules_warnings(False).total()
    return dict(params=int(parameter_count(net)['']), flops=int(flops))


def _human(n: float, unit: str) -> str:
    for div, suffix in ((1e9, 'G'), (1e6, 'M'), (1e3, 'K')):
        if n >= div:
            return f'{n / div:.2f} {suffix}{unit}'
    return f'{n:.0f} {unit}'


@cli_main('get_flops.py')
def main(argv=None) -> int:
    args = parse_args(argv)
    from rotated_ld.apis import init_detector
    from rotated_ld.utils.setup_env import load_config

    cfg = load_config(args.config, args.cfg_options)
    rows = {'model': complexity(init_detector(cfg, None, device='cpu'), args.shape)}
    if args.teacher:
        t_cfg = cfg.model.get('teacher_config')
        if not t_cfg:
            raise ValueError(f'{args.config} has no model.teacher_config (not an LD / KD config)')
        rows['teacher'] = complexity(init_detector(t_cfg, None, device='cpu'), args.shape)
    h, w = args.shape
    print(f'{osp.basename(args.config)}, input 1x3x{h}x{w} (network only: no priors, decoding or NMS)')
    for name, r in rows.items():
        print(f'  {name:8s} params {_human(r["params"], ""):>10s}   FLOPs {_human(r["flops"], "FLOPs"):>14s}')
    if 'teacher' in rows:
        m, t = rows['model'], rows['teacher']
        print(f'  student / teacher: params {m["params"] / t["params"]:.2f}x, FLOPs {m["flops"] / t["flops"]:.2f}x')
    print('  (FLOPs as mmdet / fvcore count them: one multiply-add = 1)')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(config=args.config, shape=[h, w], **rows), f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
