"""Plot training curves / compute the training time from MMEngine json logs.

MMEngine writes one json dict per line to ``WORK_DIR/<timestamp>/vis_data/<timestamp>.json`` (also
``scalars.json``): training lines carry ``lr``, ``loss*``, ``time``, ``epoch``, ``iter``, ``step``
(global iteration); validation lines carry the metrics (``dota/mAP``, ``coco/bbox_mAP``,
``pascal_voc/mAP``) and ``step`` (the epoch for epoch-based loops). A requested key matches a
logged key exactly or as its last ``/`` component (``mAP`` → ``dota/mAP``). Training keys are
plotted against the iteration, validation keys against the epoch, one panel per key.

Examples:
    python tools/analysis_tools/analyze_logs.py plot_curve work_dirs/x/*/vis_data/scalars.json \\
        --keys loss loss_ld mAP --out curves.png
    python tools/analysis_tools/analyze_logs.py plot_curve a.json b.json --keys loss --legend r18 r50
    python tools/analysis_tools/analyze_logs.py cal_train_time work_dirs/x/*/vis_data/scalars.json
"""
from __future__ import annotations

import argparse
import json
import os.path as osp
import sys

import numpy as np

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))  # run from a checkout

from rotated_ld.utils.cli import add_debug_flag, cli_main  # noqa: E402  (torch-free)


def load_json_log(path: str) -> dict:
    """Return ``dict(train=[...], val=[...])`` lists of per-line dicts of one MMEngine json log."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'log file not found: {path}')
    train, val = [], []
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f'{path}:{lineno}: not a json line ({e.msg}): {line[:80]!r}') from None
            (train if 'lr' in entry or 'loss' in entry else val).append(entry)
    return dict(train=train, val=val)


def _match(key: str, logged: set) -> str | None:
    if key in logged:
        return key
    cands = sorted(k for k in logged if k.split('/')[-1] == key)
    return cands[0] if cands else None


def series(log: dict, key: str) -> tuple[str, str, np.ndarray, np.ndarray] | None:
    """``(logged key, x label, xs, ys)`` of ``key`` in a loaded log, or None."""
    for part, xlabel in (('train', 'iter'), ('val', 'epoch')):
        entries = log[part]
        logged = set().union(*(e.keys() for e in entries)) if entries else set()
        name = _match(key, logged)
        if name is None:
            continue
        pts = [(e.get('step', i), e[name]) for i, e in enumerate(entries)
               if name in e and isinstance(e[name], (int, float))]
        if pts:
            xs, ys = np.array(pts, dtype=np.float64).T
            return name, xlabel, xs, ys
    return None


def plot_curve(logs: list[dict], args) -> str:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    legends = args.legend or [osp.basename(p) for p in args.json_logs]
    if len(legends) != len(logs):
        raise ValueError(f'{len(legends)} legends for {len(logs)} logs')
    keys = args.keys
    fig, axes = plt.subplots(len(keys), 1, figsize=(8, 3 * len(keys)), squeeze=False)
    missing = []
    for ax, key in zip(axes[:, 0], keys):
        plotted = False
        for log, legend in zip(logs, legends):
            s = series(log, key)
            if s is None:
                missing.append(f'{key!r} in {legend}')
                continue
            name, xlabel, xs, ys = s
            ax.plot(xs, ys, label=f'{legend}: {name}', marker='o' if xlabel == 'epoch' else None,
                    linewidth=1)
            ax.set_xlabel(xlabel)
            plotted = True
        ax.set_title(key)
        if plotted:
            ax.legend(fontsize=8)
        else:
            ax.text(0.5, 0.5, f'{key}: not logged', ha='center', transform=ax.transAxes)
    if args.title:
        fig.suptitle(args.title)
    fig.tight_layout()
    if all(series(log, k) is None for log in logs for k in keys):
        plt.close(fig)
        avail = sorted(set().union(*(e.keys() for log in logs for p in ('train', 'val') for e in log[p])))
        raise KeyError(f'none of the keys {keys} is in the logs; logged keys: {avail}')
    for m in missing:
        print(f'warning: {m} not found', file=sys.stderr)
    out = args.out or 'curves.png'
    fig.savefig(out, dpi=100)
    plt.close(fig)
    print(f'saved {out}')
    return out


def cal_train_time(logs: list[dict], args) -> None:
    for path, log in zip(args.json_logs, logs):
        times = np.array([e['time'] for e in log['train'] if 'time' in e], np.float64)
        if args.include_outliers is False and len(times) > 1:
            times = times[1:]  # the first logged window holds the warm-up
        if not len(times):
            print(f'{path}: no "time" entries')
            continue
        print(f'{path}: average iter time {times.mean():.4f} s (std {times.std():.4f}), '
              f'slowest {times.max():.4f} s, fastest {times.min():.4f} s over {len(times)} logged windows')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Analyze MMEngine json logs', epilog='examples:' +
                                     __doc__.split('Examples:')[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='task', required=True)
    p = sub.add_parser('plot_curve', help='plot curves of logged keys')
    p.add_argument('json_logs', nargs='+', help='json logs (vis_data/*.json)')
    p.add_argument('--keys', nargs='+', default=['loss'], help='keys to plot (e.g. loss loss_ld mAP)')
    p.add_argument('--title', help='figure title')
    p.add_argument('--legend', nargs='+', help='one legend per log')
    p.add_argument('--out', help='output image (png/pdf/svg); default curves.png')
    p = sub.add_parser('cal_train_time', help='average iteration time')
    p.add_argument('json_logs', nargs='+', help='json logs (vis_data/*.json)')
    p.add_argument('--include-outliers', action='store_true', help='keep the first (warm-up) window')
    add_debug_flag(parser)
    return parser.parse_args(argv)


@cli_main('analyze_logs.py')
def main(argv=None) -> int:
    args = parse_args(argv)
    logs = [load_json_log(p) for p in args.json_logs]
    if args.task == 'plot_curve':
        plot_curve(logs, args)
    else:
        cal_train_time(logs, args)
    return 0


if __name__ == '__main__':
    sys.exit(main())
