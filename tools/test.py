"""Test (and evaluate) a checkpoint (mmdet/mmrotate-compatible flags).

Examples:
    python tools/test.py CONFIG work_dirs/x/epoch_12.pth
    python tools/test.py CONFIG CKPT --eval bbox            # COCO AP (LD README's command style)
    python tools/test.py CONFIG CKPT --eval mAP --out results.pkl --show-dir vis
    python tools/test.py CONFIG CKPT --partial-load          # a checkpoint that fits only in part
    python tools/test.py CONFIG CKPT --report report/      # + one offline HTML page (report/report.html)
    tools/dist_test.sh CONFIG CKPT 2
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))  # run from a checkout

from rotated_ld.utils.cli import add_debug_flag, cli_main  # noqa: E402  (torch-free)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and eval) a detector', epilog='examples:' +
                                     __doc__.split('Examples:')[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save the evaluation metrics')
    parser.add_argument('--out', type=str, help='dump predictions to a pickle file (.pkl)')
    parser.add_argument('--report', metavar='DIR', help='write DIR/report.html: metrics, PR curves, confusion matrix, '
                        'error breakdown, sample pictures (self-contained; predictions dumped to DIR/results.pkl '
                        'unless --out is given)')
    parser.add_argument('--eval', nargs='+', choices=['bbox', 'mAP'],
                        help="metric as in the LD repo: 'bbox' = COCO AP, 'mAP' = VOC / DOTA mAP table")
    parser.add_argument('--show', action='store_true', help='show prediction results')
    parser.add_argument('--show-dir', help='directory (under work_dir) where painted images are saved')
    parser.add_argument('--wait-time', type=float, default=2, help='interval of --show (s)')
    parser.add_argument('--cfg-options', nargs='+', metavar='KEY=VALUE', help='override config entries')
    parser.add_argument('--partial-load', action='store_true',
                        help='evaluate even if the checkpoint does not fit the model exactly (prints how many '
                             'weights loaded); by default a missing / unexpected / mis-shaped weight is an error')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    add_debug_flag(parser)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def evaluator_for(kind: str, cfg) -> dict:
    """The evaluator selected by ``--eval`` (keeps the config's own when it already matches)."""
    current = cfg.get('test_evaluator') or {}
    current_type = current.get('type') if isinstance(current, dict) else None
    dataset = cfg.test_dataloader.dataset
    if kind == 'bbox':
        if current_type == 'CocoMetric':
            return current
        ann = dataset.get('ann_file')
        if ann and dataset.get('data_root') and not osp.isabs(ann):
            ann = osp.join(dataset.data_root, ann)
        return dict(type='CocoMetric', metric='bbox', ann_file=ann)
    # 'mAP': the DOTA table for rotated data, the VOC table otherwise
    if current_type in ('DOTAMetric', 'VOCMetric'):
        return current
    return dict(type='VOCMetric', metric='mAP')


def build_cfg(args: argparse.Namespace):
    from rotated_ld.utils.setup_env import load_tool_config

    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint file not found: {args.checkpoint}')
    cfg = load_tool_config(args.config, args.launcher, args.cfg_options, args.work_dir)
    cfg.load_from = args.checkpoint

    if args.eval:
        evaluators = [evaluator_for(k, cfg) for k in args.eval]
        cfg.test_evaluator = evaluators[0] if len(evaluators) == 1 else evaluators
    if args.show or args.show_dir:
        hooks = cfg.default_hooks
        vis = hooks.get('visualization', dict(type='DetVisualizationHook'))
        vis.update(draw=True, show=args.show, wait_time=args.wait_time)
        if args.show_dir:
            vis['test_out_dir'] = args.show_dir
        hooks['visualization'] = vis
    if args.report and args.out is None:
        args.out = osp.join(args.report, 'results.pkl')
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--out must be a .pkl file, got {args.out!r}')
        ev = cfg.test_evaluator
        ev = list(ev) if isinstance(ev, (list, tuple)) else [ev]
        ev.append(dict(type='DumpDetResults', out_file_path=args.out))  # numpy, no torch objects
        cfg.test_evaluator = ev
    return cfg


def check_loaded_weights(runner, config: str, partial: bool) -> None:
    """Make the runner's checkpoint load strict, as ``infer.py`` and the teacher loader are.

    MMEngine loads ``load_from`` with ``strict=False``: a checkpoint of another architecture loads
    nothing and the random model is evaluated (mAP 0, exit 0). After MMEngine's load the checkpoint
    is compared with the model (:func:`rotated_ld.apis.inference.check_state_dict`); a difference is a
    ``CheckpointMismatchError`` unless ``--partial-load``, which prints the counts instead.
    """
    from mmengine.model import is_model_wrapper

    from rotated_ld.apis.inference import check_state_dict, extract_state_dict, partial_load_counts

    load = runner.load_checkpoint

    def checked_load(filename, *a, **kw):
        ckpt = load(filename, *a, **kw)
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        state = extract_state_dict(ckpt, filename)
        if partial:
            msg = f'--partial-load {filename}: {partial_load_counts(model, state)}'
            runner.logger.warning(msg)  # the log file
            print(f'test.py: warning: {msg}', file=sys.stderr)
        else:
            check_state_dict(model, state, filename, config)
        return ckpt

    runner.load_checkpoint = checked_load


@cli_main('test.py')
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import rotated_ld.registry  # noqa: F401  (safe checkpoint loader, registries)
    from rotated_ld.utils.setup_env import run_with_runner

    cfg = build_cfg(args)
    code = run_with_runner(cfg, args.config, args.launcher, lambda runner: runner.test(),
                           on_built=lambda runner: check_loaded_weights(runner, args.config, args.partial_load))
    if code == 0 and args.report:
        return write_report(cfg, args.out, args.report)
    return code


def write_report(cfg, results: str, out_dir: str) -> int:
    """``out_dir/report.html`` from the dumped predictions and the test set's labels (rank 0 only)."""
    from mmengine.dist import get_rank

    from rotated_ld.evaluation.analysis.html_report import config_report_source
    from rotated_ld.evaluation.analysis.html_report import write_report as write_html

    if get_rank() != 0:
        return 0
    try:
        gt, classes, merge = config_report_source(cfg)
        path = write_html(results, gt, osp.join(out_dir, 'report.html'), classes, split='test', merge=merge)
    except (OSError, ValueError, KeyError) as e:
        print(f'--report: error: {e}', file=sys.stderr)
        return 1
    print(f'report written to {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
