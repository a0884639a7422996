"""Measure the inference speed (FPS) of a detector, warm-up excluded (mmdet's benchmark rules).

One image per iteration; the timed part is ``model.test_step`` (data preprocessor + forward +
post-processing, as mmdet), with ``torch.cuda.synchronize()`` around it on GPU. The first
``--num-warmup`` iterations are not counted. Images come from the config's test dataloader;
when its data is not available (or with ``--synthetic``) a random ``--shape`` image is run
through the test pipeline instead and the tool says so.

Examples:
    python tools/benchmark.py CONFIG CKPT
    python tools/benchmark.py CONFIG CKPT --max-iter 200 --log-interval 50 --fuse-conv-bn --device cuda:0
    python tools/benchmark.py CONFIG CKPT --synthetic --shape 1024 1024 --device cpu
"""
from __future__ import annotations

import argparse
import copy
import json
import os.path as osp
import sys
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))  # run from a checkout

from rotated_ld.utils.cli import add_debug_flag, cli_main  # noqa: E402  (torch-free)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Benchmark a detector (FPS, warm-up excluded)',
                                epilog='examples:' + __doc__.split('Examples:')[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config', help='config file')
    p.add_argument('checkpoint', nargs='?', default=None, help='checkpoint file (omit: random weights)')
    p.add_argument('--max-iter', type=int, default=200, help='iterations in total (default 200)')
    p.add_argument('--log-interval', type=int, default=50, help='print every N iterations (default 50)')
    p.add_argument('--num-warmup', type=int, default=5, help='iterations not timed (default 5)')
    p.add_argument('--fuse-conv-bn', action='store_true', help='fold BatchNorm into convs (slightly faster)')
    p.add_argument('--device', default=None, help="'cpu' or 'cuda:0' (default: cuda if available)")
    p.add_argument('--synthetic', action='store_true', help='time a random image instead of the test set')
    p.add_argument('--shape', type=int, nargs=2, default=[1024, 1024], metavar=('H', 'W'),
                   help='synthetic image size (default 1024 1024)')
    p.add_argument('--out', help='write the result as json')
    p.add_argument('--cfg-options', nargs='+', metavar='KEY=VALUE', help='override config entries')
    add_debug_flag(p)
    args = p.parse_args(argv)
    if args.max_iter <= args.num_warmup:
        p.error(f'--max-iter {args.max_iter} must exceed --num-warmup {args.num_warmup}')
    if args.log_interval < 1:
        p.error('--log-interval must be >= 1')
    return args


def data_source(model, args):
    """Yield ``test_step`` batches of one image; returns (iterator, description)."""
    import numpy as np

    from rotated_ld.apis.inference import _dataset_cfg, build_test_pipeline

    cfg = model.cfg
    if not args.synthetic:
        try:
            from rotated_ld.registry import DATASETS

            ds_cfg = copy.deepcopy(_dataset_cfg(cfg))
            if ds_cfg is None:
                raise ValueError('no test_dataloader.dataset in the config')
            dataset = DATASETS.build(ds_cfg)
            if len(dataset) == 0:
                raise ValueError('the test set is empty')

            def gen():
                i = 0
                while True:
                    item = dataset[i % len(dataset)]
                    yield dict(inputs=[item['inputs']], data_samples=[item['data_samples']])
                    i += 1
            return gen(), f'test set ({len(dataset)} images)'
        except Exception as e:  # noqa: BLE001  (fall back to a synthetic image, and say why)
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            print(f'note: test data unavailable ({reason}); timing a synthetic image instead')
    h, w = args.shape
    img = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    packed = build_test_pipeline(cfg, from_array=True)(
        dict(img=img, img_id='synthetic', img_path=None, ori_shape=(h, w), img_shape=(h, w)))

    def gen_syn():
        while True:
            yield dict(inputs=[packed['inputs']], data_samples=[copy.deepcopy(packed['data_samples'])])
    return gen_syn(), f'synthetic {h}x{w} image'


def benchmark(model, batches, max_iter: int, log_interval: int, num_warmup: int, device: str) -> dict:
    """Time ``max_iter`` single-image ``test_step`` calls; FPS over the iterations after warm-up."""
    import torch

    cuda = str(device).startswith('cuda')
    pure, fps = 0.0, 0.0
    for i in range(max_iter):
        data = next(batches)
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        with torch.no_grad():
            model.test_step(data)
        if cuda:
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - start
        if i >= num_warmup:
            pure += elapsed
            done = i + 1 - num_warmup
            if (i + 1) % log_interval == 0:
                fps = done / pure
                print(f'Done image [{i + 1:<3}/ {max_iter}], fps: {fps:.2f} img / s, '
                      f'times per image: {1000 / fps:.1f} ms / img', flush=True)
    done = max_iter - num_warmup
    fps = done / pure
    print(f'Overall fps: {fps:.2f} img / s, times per image: {1000 / fps:.1f} ms / img')
    return dict(fps=fps, ms_per_img=1000 / fps, timed_iters=done, warmup_iters=num_warmup)


@cli_main('benchmark.py')
def main(argv=None) -> int:
    args = parse_args(argv)
    import torch

    from rotated_ld.apis import fuse_conv_bn, init_detector
    from rotated_ld.utils.setup_env import parse_cfg_options

    args.cfg_options = parse_cfg_options(args.cfg_options)
    if args.device and args.device.startswith('cuda') and not torch.cuda.is_available():
        raise ValueError(f'--device {args.device}: CUDA is not available on this machine')
    model = init_detector(args.config, args.checkpoint, device=args.device, cfg_options=args.cfg_options)
    if args.fuse_conv_bn:
        model = fuse_conv_bn(model)
    device = str(next(model.parameters()).device)
    batches, what = data_source(model, args)
    print(f'benchmarking {osp.basename(args.config)} on {device} '
          f'({torch.get_num_threads()} CPU threads) with a {what}; fuse_conv_bn={args.fuse_conv_bn}')
    result = benchmark(model, batches, args.max_iter, args.log_interval, args.num_warmup, device)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(result, config=args.config, checkpoint=args.checkpoint, device=device,
                           fuse_conv_bn=args.fuse_conv_bn, data=what), f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
