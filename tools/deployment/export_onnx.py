"""Export a detector (the student of a KD config) to ONNX: dense outputs + decoding metadata.

Outputs ``cls_logits (B, N, C)``, ``bbox_pred (B, N, D)`` and, for rotated GFL, ``angle_logits
(B, N, K)``; decode them with ``rotated_ld.deployment.postprocess`` (no model needed). The input
``image (B, 3, H, W)`` takes raw pixels (BGR as cv2 loads them), resized/padded to ``--shape``;
normalisation is in the graph. Layout, shapes and decoding: docs/deployment.md.

Examples:
    python tools/deployment/export_onnx.py configs/demo/rotated-gfl_r18-slim_fpn_synthetic-dota_le90.py \\
        work_dirs/demo/iter_200.pth --out rgfl.onnx --shape 384 384 --verify
    python tools/deployment/export_onnx.py configs/gfl/gfl_r18-slim_fpn_synthetic_coco.py gfl.pth --out gfl.onnx
    python tools/deployment/export_onnx.py CONFIG none --out random_init.onnx --verify   # graph check only
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))  # run from a checkout

from rotated_ld.utils.cli import InputError, add_debug_flag, cli_main  # noqa: E402  (torch-free)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Export the dense outputs of a detector to ONNX',
                                epilog='examples:' + __doc__.split('Examples:')[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config', help='config file (a KD config exports its student)')
    p.add_argument('checkpoint', help="checkpoint (local file), or 'none' for the random init")
    p.add_argument('--out', required=True, help='output .onnx (the decoding meta goes to <out>.json too)')
    p.add_argument('--shape', type=int, nargs=2, default=[384, 384], metavar=('H', 'W'),
                   help='input height and width (multiples of the pad divisor, 32)')
    p.add_argument('--dynamic', action='store_true', help='free batch, height and width (multiples of 32); '
                   '--verify then also checks a second shape')
    p.add_argument('--opset', type=int, default=17, help='ONNX opset (default 17)')
    p.add_argument('--dynamo', action='store_true', help='use the dynamo exporter (default: TorchScript '
                                                           'exporter where torch still has it)')
    p.add_argument('--verify', action='store_true', help='run onnxruntime (CPU) and print the max abs '
                                                           'difference to PyTorch per output')
    p.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE', help='config overrides')
    add_debug_flag(p)
    return p.parse_args(argv)


@cli_main('export_onnx.py')
def main(argv=None) -> int:
    args = parse_args(argv)
    if any(s <= 0 or s % 32 for s in args.shape):
        raise InputError(f'--shape {args.shape}: give positive multiples of 32 (the FPN levels of the padded input)')
    from rotated_ld.apis import init_detector
    from rotated_ld.deployment.export import export_onnx, verify_onnx
    from rotated_ld.utils.setup_env import parse_cfg_options

    ckpt = None if args.checkpoint.lower() == 'none' else args.checkpoint
    model = init_detector(args.config, ckpt, device='cpu', cfg_options=parse_cfg_options(args.cfg_options))
    os.makedirs(osp.dirname(osp.abspath(args.out)) or '.', exist_ok=True)
    meta = export_onnx(model, args.out, args.shape, args.opset, classes=model.dataset_meta.get('classes'),
                       dynamo=True if args.dynamo else None, dynamic=args.dynamic)
    print(f'exported {meta["head"]} ({meta["kind"]}) with the {meta["exporter"]} exporter in '
          f'{meta["export_seconds"]:.1f} s: {args.out}')
    free = ' (dynamic: batch, H, W free; N follows)' if meta['dynamic'] else ''
    print(f'  input  image {meta["input"]["shape"]} float32 raw pixels ({meta["input"]["channel_order"]}){free}')
    for name, shape in meta['outputs'].items():
        print(f'  output {name} {shape}')
    if args.verify:
        shapes = [tuple(args.shape)] + ([(args.shape[0] + 32, args.shape[1] + 64)] if args.dynamic else [])
        for shape in shapes:
            diffs = verify_onnx(model, args.out, shape=shape)
            worst = max(diffs.values())
            print(f'  onnxruntime vs PyTorch at {shape[0]}x{shape[1]}, max abs diff: '
                  + ', '.join(f'{k} {v:.2e}' for k, v in diffs.items()) + f' (max {worst:.2e})')
            if worst > 1e-3:
                raise RuntimeError(f'{args.out}: ONNX outputs differ from PyTorch by more than 1e-3')
    return 0


if __name__ == '__main__':
    sys.exit(main())
