"""Start-up time of the tools that need no torch, against what a user would run instead, same run.

Each command is started ``--repeat`` times as a fresh ``python`` process; the best wall time is
printed (best-of-N: on a shared machine the minimum is the least load-dependent number), with
whether torch got imported (``-X importtime`` output). Baselines measured in the same run:

* ``python -c 'import cv2, numpy, shapely, PIL'``: the imports of mmrotate's ``img_split.py``
  (the script a DOTA user would otherwise type);
* ``python -c 'import torch'``: what every tool paid before the package imports became lazy.

    python benchmarks/bench_tool_startup.py [--repeat 3]
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..'))

TOOLS = [
    'tools/data/dota/split/img_split.py', 'tools/analysis_tools/eval_dota.py', 'tools/data/dota/check_submission.py',
    'tools/analysis_tools/check_dataset.py', 'tools/dataset_converters/labelme2dota.py',
    'tools/dataset_converters/rolabelimg2dota.py', 'tools/dataset_converters/yolo_obb2dota.py',
    'tools/dataset_converters/dota2yolo_obb.py', 'tools/train.py', 'tools/test.py', 'tools/infer.py',
]


def _time(cmd: list[str], repeat: int) -> tuple[float, bool]:
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1')
    best, torch = 1e9, False
    for _ in range(repeat):
        t = time.perf_counter()
        p = subprocess.run([sys.executable, '-X', 'importtime', *cmd], cwd=ROOT, env=env, capture_output=True,
                           text=True)
        best = min(best, time.perf_counter() - t)
        torch = torch or any(line.rstrip().endswith('| torch') for line in p.stderr.splitlines())
    return best, torch


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--repeat', type=int, default=3)
    args = p.parse_args(argv)
    print(f'load avg {os.getloadavg()[0]:.1f}; best of {args.repeat} fresh processes')
    mm, _ = _time(['-c', 'import cv2, numpy, shapely, PIL.Image'], args.repeat)
    torch_s, _ = _time(['-c', 'import torch'], args.repeat)
    print(f'  {"command":58s} {"s":>6s} {"torch":>6s} {"vs mmrotate imports":>20s}')
    print(f'  {"baseline: import cv2, numpy, shapely, PIL (mmrotate split)":58s} {mm:6.2f} {"no":>6s} {1:19.2f}x')
    print(f'  {"baseline: import torch (what each tool paid before)":58s} {torch_s:6.2f} {"yes":>6s} '
          f'{mm / torch_s:19.2f}x')
    for tool in TOOLS:
        s, torch = _time([tool, '--help'], args.repeat)
        print(f'  {tool + " --help":58s} {s:6.2f} {"yes" if torch else "no":>6s} {mm / s:19.2f}x')
    with tempfile.TemporaryDirectory() as tmp:  # a real run of the split tool: one small scene
        sys.path.insert(0, ROOT)
        from rotated_ld.datasets.synthetic import make_dota_scenes

        make_dota_scenes(tmp, num=1, size_range=(600, 600), seed=0)
        cmd = ['tools/data/dota/split/img_split.py', '--img-dirs', osp.join(tmp, 'images'), '--ann-dirs',
               osp.join(tmp, 'labelTxt'), '--sizes', '512', '--gaps', '200', '--nproc', '1', '--no-progress']
        best = 1e9
        for i in range(args.repeat):
            s, torch = _time([*cmd, '--save-dir', osp.join(tmp, f'out{i}')], 1)
            best = min(best, s)
        print(f'  {"img_split.py on one 600² scene (4 patches)":58s} {best:6.2f} {"yes" if torch else "no":>6s} '
              f'{mm / best:19.2f}x')


if __name__ == '__main__':
    main()
