"""Import weights of mmdet / mmrotate / Rotated-LD / torchvision into rotated_ld's layout.

Prints a key-mapping report (mapped / renamed / transformed / dropped / unused / missing / shape
mismatches) and writes ``{'state_dict', 'meta'}`` with plain tensors, loadable by our tools
(``tools/test.py CONFIG DST``, ``load_from``, ``init_cfg=dict(type='Pretrained', checkpoint=DST)``).
Layouts and their key patterns: ``docs/deployment.md``; the rules: ``rotated_ld/utils/weight_import.py``.

Examples:
    python tools/model_converters/import_weights.py gfl_r50_fpn_1x_coco_20200629.pth gfl_r50.pth \\
        --from mmdet-gfl --config configs/gfl/gfl_r50_fpn_1x_coco.py
    python tools/model_converters/import_weights.py rotated-retinanet-rbox-le90_r50.pth rr50.pth \\
        --from mmrotate1-retinanet --src-angle-version le90 \\
        --config configs/rotated_retinanet/rotated_retinanet_r50_fpn_1x_dota_le90.py
    # -> rr50.pth + rr50.py (le90 config with mmrotate 1.x anchors): tools/test.py rr50.py rr50.pth
    python tools/model_converters/import_weights.py resnet18_tv.pth resnet18_init.pth --from torchvision-resnet
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))  # run from a checkout

from rotated_ld.utils.cli import add_debug_flag, cli_main  # noqa: E402  (torch-free)

LAYOUTS = ('mmdet-gfl', 'mmdet-ld', 'mmrotate0-retinanet', 'mmrotate1-retinanet', 'rotated-ld',
           'ld-retinagfl', 'torchvision-resnet')


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Import foreign detector weights (key-mapping report included)',
                                epilog='examples:' + __doc__.split('Examples:')[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('src', help='foreign checkpoint (local file)')
    p.add_argument('dst', help='output checkpoint (.pth)')
    p.add_argument('--from', dest='layout', required=True, choices=LAYOUTS, help='layout of SRC')
    p.add_argument('--config', help='our config of the target model: enables missing / unused / shape '
                                    'checks; for rotated RetinaNet layouts also the base of the written DST.py '
                                    '(required for mmrotate1-retinanet with --anchors exact)')
    p.add_argument('--src-angle-version', default='le90', choices=('none', 'oc', 'le90', 'le135'),
                   help='mmrotate1-retinanet: angle_version of the source FakeRotatedAnchorGenerator '
                        "(1.x configs: le90; 'none' if it was deleted to load 0.x weights)")
    p.add_argument('--anchors', default='mmrotate', choices=('mmrotate', 'exact'),
                   help='rotated RetinaNet layouts: "mmrotate" (default) copies the weights and writes DST.py, a '
                        "config inheriting --config with the source's anchors and decoding (compat='mmrotate0' / "
                        "'mmrotate1'), so the detections are the source framework's; \"exact\" keeps this project's "
                        'anchors (mmrotate1: rows of turned anchors re-expressed, approximate; for fine-tuning)')
    p.add_argument('--prefix', default='', help="prefix for every output key (e.g. 'backbone.' to use a "
                                                'torchvision file as load_from of a detector)')
    p.add_argument('--allow-shape-mismatch', action='store_true',
                   help='write the file even with shape mismatches (they stay in the report)')
    add_debug_flag(p)
    return p.parse_args(argv)


@cli_main('import_weights.py')
def main(argv=None) -> int:
    args = parse_args(argv)
    print(f'import_weights: {args.src} ({args.layout}) -> {args.dst}'
          + (f' for {args.config}' if args.config else ' (no --config: names only)'))
    from rotated_ld.apis.weight_import import import_weights

    if not osp.isfile(args.src):
        raise FileNotFoundError(f'no such checkpoint: {args.src}')
    if args.config is not None and not osp.isfile(args.config):
        raise FileNotFoundError(f'no such config: {args.config}')
    options = dict(anchors=args.anchors)
    if args.layout == 'mmrotate1-retinanet':
        options['src_angle_version'] = args.src_angle_version
    os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
    report = import_weights(args.src, args.dst, args.layout, config=args.config, prefix=args.prefix,
                            strict=not args.allow_shape_mismatch, **options)
    return 0 if report.ok else 2


if __name__ == '__main__':
    sys.exit(main())
