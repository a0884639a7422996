"""Train a detector (mmdet/mmrotate-compatible flags).

Examples:
    python tools/train.py configs/demo/rotated_gfl_r18-slim_synthetic_dota_le90.py
    python tools/train.py configs/gfl/gfl_r50_fpn_1x_coco.py --work-dir work_dirs/gfl --auto-scale-lr
    python tools/train.py CONFIG --resume                 # newest checkpoint in the work dir
    python tools/train.py CONFIG --resume work_dirs/x/epoch_3.pth --cfg-options train_cfg.max_epochs=24
    tools/dist_train.sh CONFIG 2                          # 2 processes (GPUs, or CPU with gloo)
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))  # run from a checkout

from rotated_ld.utils.cli import add_debug_flag, cli_main  # noqa: E402  (torch-free)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train a detector', epilog='examples:' + __doc__.split('Examples:')[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision: fp16 AMP on CUDA, bf16 autocast on CPU')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale lr linearly: lr x (batch per GPU x GPUs) / base_batch_size')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from CKPT, or without a path from the newest checkpoint in work_dir')
    parser.add_argument('--cfg-options', nargs='+', metavar='KEY=VALUE',
                        help='override config entries, e.g. train_cfg.max_epochs=2 model.backbone.depth=34')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    add_debug_flag(parser)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_cfg(args: argparse.Namespace):
    """Config with the command line applied (work-dir precedence: CLI > config > config name)."""
    import torch

    from rotated_ld.utils.setup_env import check_schedule, load_tool_config

    cfg = load_tool_config(args.config, args.launcher, args.cfg_options, args.work_dir)
    check_schedule(cfg, args.config)

    if args.amp:
        wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if wrapper in ('AmpOptimWrapper', 'CPUAutocastOptimWrapper'):
            pass
        elif torch.cuda.is_available():
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
        else:
            cfg.optim_wrapper.type = 'CPUAutocastOptimWrapper'
            cfg.optim_wrapper.dtype = 'bfloat16'

    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise KeyError('--auto-scale-lr needs `auto_scale_lr = dict(base_batch_size=...)` in the config '
                           '(configs/_base_/schedules/*.py define it)')
        cfg.auto_scale_lr.enable = True

    if args.resume == 'auto':
        from rotated_ld.engine import find_latest_valid_checkpoint

        # the newest *complete* checkpoint; corrupt ones are reported and skipped
        cfg.resume = True
        cfg.load_from = find_latest_valid_checkpoint(cfg.work_dir) \
            if osp.isdir(cfg.work_dir) else None
        if cfg.load_from is None:
            print(f'--resume: no valid checkpoint in {cfg.work_dir}; starting from scratch', file=sys.stderr)
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def report_lr_scaling(cfg, logger) -> None:
    """Print the learning rate that the linear scaling rule will give (issue: lr printed at start)."""
    from rotated_ld.utils.setup_env import train_batch_size, world_size_from_env

    base_lr = cfg.optim_wrapper.get('optimizer', {}).get('lr')
    bs = train_batch_size(cfg)
    if base_lr is None or bs is None:
        return
    world = world_size_from_env()
    scale = cfg.get('auto_scale_lr', {})
    if scale.get('enable', False):
        real = bs * world
        logger.info(f'auto-scale-lr: lr {base_lr} x ({bs} per process x {world} processes = {real}) / '
                    f'base batch {scale["base_batch_size"]} = {base_lr * real / scale["base_batch_size"]:.6g}')
    else:
        logger.info(f'lr {base_lr} for {bs} images per process x {world} processes '
                    f'(auto-scale-lr off; enable it with --auto-scale-lr)')


@cli_main('train.py')
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import rotated_ld.registry  # noqa: F401  (safe checkpoint loader, atomic saves, registries)
    from rotated_ld.utils.setup_env import run_with_runner

    cfg = build_cfg(args)

    def on_built(runner) -> None:
        from mmengine.dist import is_main_process

        from rotated_ld.engine import remove_stale_temp_files

        if is_main_process():  # only rank 0 saves checkpoints
            remove_stale_temp_files(cfg.work_dir, runner.logger.warning)
        report_lr_scaling(cfg, runner.logger)

    return run_with_runner(cfg, args.config, args.launcher, lambda runner: runner.train(), on_built=on_built)


if __name__ == '__main__':
    sys.exit(main())
