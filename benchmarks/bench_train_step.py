"""Training-step throughput (images/s, CPU time per step) against a baseline measured in the same run.

Cases (random weights: the cost does not depend on them; fixed synthetic batches, seeded):
  demo-student : configs/demo/rotated-gfl_r18-slim_fpn_synthetic-dota_le90.py, batch 4 x 384², 8 rotated GTs
  demo-ld      : configs/demo/rotated-ld_r18-slim-rgfl-r18-slim-long_fpn_synthetic-dota_le90.py (teacher
                 forward included), batch 4 x 384²
  gfl-r50      : configs/gfl/gfl_r50_fpn_1x_coco.py, batch 1 x 640², 8 horizontal GTs
A step is ``model.train_step`` with an SGD ``OptimWrapper`` (``CPUAutocastOptimWrapper`` with ``--amp``):
data preprocessor, forward, losses, backward, optimizer step — the data pipeline is not included.

How the baseline is measured (honest and simple): the script checks out ``--baseline-ref`` (default: the
commit before the throughput work) into a temporary ``git worktree`` and runs *this same measuring code*
in a subprocess with that tree first on ``sys.path``; the current tree is measured the same way. Baseline
and current subprocesses alternate ``--repeats`` times so that load changes on a shared machine hit both
alike, and the per-case medians are compared. The ratio is baseline time / current time (> 1: faster).

Timing unit: process CPU time (``time.process_time``) at 1 thread by default — on a loaded shared
machine the wall clock mostly measures other jobs; wall medians are printed too, but trust CPU time.
images/s is batch size / CPU seconds per step.

``--profile`` prints torch.profiler's top-10 ops by self CPU time (``record_shapes=True``) of one
demo-student and one demo-ld step for the baseline and the current tree: the before/after view.

``--teacher-ab PAIRS`` times only the demo LD student, alternating steps of two models in one process:
teacher in NCHW (``teacher_channels_last=False``, the code before) and in NHWC (the CPU default).

Measured (2-core AMD EPYC, AVX2 only, 1 thread, shared with 5-10 other jobs; process CPU time):

  --teacher-ab 8 : teacher NCHW 5460 ms, NHWC 4940 ms per demo-ld step, median pair ratio 1.10
                   (min 0.96, max 1.28); with ``--cases demo-ld --iters 2 --repeats 2`` against the
                   commit before: 6145 -> 5529 ms, 1.11x, loss 3.7877 both.
  demo-student   : unchanged code (ratio 0.86-1.06 between single repeats: the noise of this machine).
  convolutions   : ~84-86 % of a step (torch.profiler self CPU: convolution_backward 55-60 %,
                   mkldnn_convolution 24-27 %), then max_pool2d (~2.5 %), batch norm (~4 % fwd+bwd),
                   ReLU backward, add_/copy_/fill_; heads + assigners + losses < 1 % (student),
                   < 2 % with the distiller. No fp32 change that keeps the numerics reaches 1.3x here.
  --amp (bf16)   : ~17x slower than fp32 (16.2 vs ~0.93 s for R-18 fwd+bwd, 2 x 256^2): this CPU
                   has no avx512_bf16, oneDNN emulates bf16.

Examples:
  python benchmarks/bench_train_step.py                          # all cases, baseline vs current
  python benchmarks/bench_train_step.py --cases demo-student --iters 3 --profile
  python benchmarks/bench_train_step.py --amp                    # adds current bf16 vs current fp32
  python benchmarks/bench_train_step.py --baseline-ref HEAD~3
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

HERE = osp.dirname(osp.dirname(osp.abspath(__file__)))
# the last commit before the training-throughput changes (issue 19, deliverable 3)
DEFAULT_BASELINE = 'c2218bb'
CASES = {
    # name: (config, batch, (H, W), rotated)
    'demo-student': ('configs/demo/rotated-gfl_r18-slim_fpn_synthetic-dota_le90.py', 4, (384, 384), True),
    'demo-ld': ('configs/demo/rotated-ld_r18-slim-rgfl-r18-slim-long_fpn_synthetic-dota_le90.py', 4,
                (384, 384), True),
    'gfl-r50': ('configs/gfl/gfl_r50_fpn_1x_coco.py', 1, (640, 640), False),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--cases', nargs='+', choices=sorted(CASES), default=list(CASES))
    p.add_argument('--iters', type=int, default=4, help='timed steps per case per repeat (median used)')
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--repeats', type=int, default=2, help='alternating baseline/current subprocess pairs')
    p.add_argument('--amp', action='store_true', help='also time the current tree under bf16 autocast')
    p.add_argument('--channels-last', action='store_true',
                   help='also time the current tree with the model in channels_last memory format')
    p.add_argument('--profile', action='store_true',
                   help='torch.profiler top-10 (self CPU) of one demo-student / demo-ld step, before/after')
    p.add_argument('--teacher-ab', type=int, default=0, metavar='PAIRS',
                   help='only: demo-ld with the teacher in NCHW vs NHWC, PAIRS alternating steps in one process')
    p.add_argument('--baseline-ref', default=DEFAULT_BASELINE, help='git ref of the baseline (default %(default)s)')
    p.add_argument('--threads', type=int, default=1)
    # internal: measure in this process with ROOT's code
    p.add_argument('--measure', metavar='ROOT', help=argparse.SUPPRESS)
    return p.parse_args(argv)


# ----------------------------------------------------------------------------- child: measuring
def make_batch(n, size, num_gts, num_classes, rotated, seed=0):
    import torch
    from mmengine.structures import InstanceData

    from rotated_ld.structures import DetDataSample

    g = torch.Generator().manual_seed(seed)
    h, w = size
    inputs, samples = [], []
    for i in range(n):
        inputs.append(torch.randint(0, 255, (3, h, w), generator=g, dtype=torch.uint8))
        s = DetDataSample(metainfo=dict(img_id=i, img_shape=(h, w), ori_shape=(h, w), scale_factor=(1.0, 1.0)))
        wh = torch.rand(num_gts, 2, generator=g) * torch.tensor([w, h]) * 0.3 + 16
        ctr = torch.rand(num_gts, 2, generator=g) * (torch.tensor([w, h]) - wh) + wh / 2
        gt = InstanceData()
        if rotated:  # (cx, cy, w, h, angle) le90, angle in [-pi/2, pi/2)
            ang = (torch.rand(num_gts, 1, generator=g) - 0.5) * 3.14
            gt.bboxes = torch.cat([ctr, wh, ang], 1)
        else:
            gt.bboxes = torch.cat([ctr - wh / 2, ctr + wh / 2], 1)
        gt.labels = torch.randint(0, num_classes, (num_gts,), generator=g)
        s.gt_instances = gt
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def build_case(name, amp, channels_last=False, model_options=None):
    import torch
    from mmengine.config import Config
    from mmengine.optim import OptimWrapper

    from rotated_ld.registry import MODELS

    rel, bs, size, rotated = CASES[name]
    cfg = Config.fromfile(rel)
    if 'teacher_ckpt' in cfg.model:
        cfg.model.teacher_ckpt = None
    cfg.model.backbone.init_cfg = None
    cfg.model.update(model_options or {})
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model = MODELS.build(cfg.model)
    model.train()
    if channels_last:  # conv weights in NHWC: oneDNN then runs the convs (and their outputs) in NHWC
        model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=1e-5, momentum=0.9)
    if amp:
        from rotated_ld.engine import CPUAutocastOptimWrapper
        wrapper = CPUAutocastOptimWrapper(optimizer=opt, dtype='bfloat16')
    else:
        wrapper = OptimWrapper(optimizer=opt)
    batch = make_batch(bs, size, 8, model.bbox_head.num_classes, rotated)

    def step():
        return model.train_step(batch, wrapper)
    return step, bs


def measure(args):
    import torch

    torch.set_num_threads(args.threads)
    from mmengine.registry import init_default_scope

    import rotated_ld.models  # noqa: F401  (registers)
    init_default_scope('rotated_ld')
    out = {}
    for name in args.cases:
        step, bs = build_case(name, args.amp, args.channels_last)
        for _ in range(args.warmup):
            step()
        wall, cpu, loss = [], [], None
        for _ in range(args.iters):
            t, tc = time.perf_counter(), time.process_time()
            log = step()
            cpu.append(time.process_time() - tc)
            wall.append(time.perf_counter() - t)
            loss = float(log['loss'].detach())
        out[name] = dict(cpu=statistics.median(cpu), wall=statistics.median(wall), batch=bs, loss=loss)
    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        out['_profile'] = {}
        for name in [c for c in ('demo-student', 'demo-ld') if c in args.cases]:
            step, _ = build_case(name, args.amp)
            step()
            with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
                step()
            out['_profile'][name] = prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=10,
                                                              max_name_column_width=40)
    print('@@RESULT ' + json.dumps(out))


# ----------------------------------------------------------------------------- parent: orchestration
def run_child(root, args, amp=False, profile=False, channels_last=False):
    cmd = [sys.executable, osp.abspath(__file__), '--measure', root, '--cases', *args.cases,
           '--iters', str(args.iters), '--warmup', str(args.warmup), '--threads', str(args.threads)]
    if amp:
        cmd.append('--amp')
    if profile:
        cmd.append('--profile')
    if channels_last:
        cmd.append('--channels-last')
    env = dict(os.environ, PYTHONPATH=root, OMP_NUM_THREADS=str(args.threads))
    r = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f'measuring in {root} failed:\n{r.stderr[-3000:]}')
    line = [ln for ln in r.stdout.splitlines() if ln.startswith('@@RESULT ')][-1]
    return json.loads(line[len('@@RESULT '):])


def baseline_tree(ref, tmp):
    path = osp.join(tmp, 'baseline')
    subprocess.run(['git', '-C', HERE, 'worktree', 'add', '--detach', path, ref], check=True,
                   capture_output=True)
    return path


def summarise(runs):
    return {name: dict(cpu=statistics.median(r[name]['cpu'] for r in runs),
                       wall=statistics.median(r[name]['wall'] for r in runs),
                       batch=runs[0][name]['batch'], loss=runs[0][name]['loss'])
            for name in runs[0] if not name.startswith('_')}


def teacher_ab(args):
    """demo-ld steps alternating between a model whose teacher runs in NCHW (teacher_channels_last=False,
    the code before) and one whose teacher runs in NHWC (the CPU default), in this one process: load
    changes hit both alike. Prints medians and the median of the per-pair ratios."""
    import torch

    torch.set_num_threads(args.threads)
    from mmengine.registry import init_default_scope

    import rotated_ld.models  # noqa: F401  (registers)
    init_default_scope('rotated_ld')
    steps = {nhwc: build_case('demo-ld', False, model_options=dict(teacher_channels_last=nhwc))[0]
             for nhwc in (False, None)}
    for step in steps.values():
        step()
    cpu = {k: [] for k in steps}
    for i in range(args.teacher_ab):
        for k in ((False, None) if i % 2 == 0 else (None, False)):
            tc = time.process_time()
            steps[k]()
            cpu[k].append(time.process_time() - tc)
    ratios = [a / b for a, b in zip(cpu[False], cpu[None])]
    print(f'demo-ld, {args.threads} thread(s), {args.teacher_ab} alternating pairs, process CPU time per step')
    print(f'  teacher NCHW (before) {statistics.median(cpu[False]) * 1e3:7.0f} ms   teacher NHWC (default) '
          f'{statistics.median(cpu[None]) * 1e3:7.0f} ms   median pair ratio {statistics.median(ratios):.3f} '
          f'(min {min(ratios):.3f}, max {max(ratios):.3f})')


def main(argv=None):
    args = parse_args(argv)
    if args.teacher_ab:
        return teacher_ab(args)
    if args.measure:
        sys.path.insert(0, args.measure)
        os.chdir(args.measure)
        return measure(args)
    tmp = tempfile.mkdtemp(prefix='bench_train_step_')
    base_root = baseline_tree(args.baseline_ref, tmp)
    try:
        base_runs, cur_runs, amp_runs, cl_runs = [], [], [], []
        for i in range(args.repeats):
            prof = args.profile and i == 0
            base_runs.append(run_child(base_root, args, profile=prof))
            cur_runs.append(run_child(HERE, args, profile=prof))
            if args.amp:
                amp_runs.append(run_child(HERE, args, amp=True))
            if args.channels_last:
                cl_runs.append(run_child(HERE, args, channels_last=True))
            print(f'repeat {i + 1}/{args.repeats} done', file=sys.stderr, flush=True)
    finally:
        subprocess.run(['git', '-C', HERE, 'worktree', 'remove', '--force', base_root], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    if args.profile:
        for name in base_runs[0]['_profile']:
            for label, runs in ((f'baseline ({args.baseline_ref})', base_runs), ('current', cur_runs)):
                print(f'--- torch.profiler top-10 by self CPU time, {label}, one {name} step ---')
                print(runs[0]['_profile'][name])
    base, cur = summarise(base_runs), summarise(cur_runs)
    amp = summarise(amp_runs) if amp_runs else None
    cl = summarise(cl_runs) if cl_runs else None
    print(f'baseline {args.baseline_ref} vs current tree; {args.threads} thread(s); median of {args.iters} '
          f'steps x {args.repeats} alternating repeats; unit: process CPU time (wall is unreliable here)')
    hdr = f'{"case":14s} {"base ms":>9s} {"cur ms":>9s} {"base img/s":>10s} {"cur img/s":>10s} {"ratio":>6s}' \
          f' {"wall b/c ms":>14s} {"loss b / c":>19s}'
    if amp:
        hdr += f' {"bf16 ms":>9s} {"fp32/bf16":>9s}'
    if cl:
        hdr += f' {"NHWC ms":>9s} {"cur/NHWC":>9s}'
    print(hdr)
    for name in base:
        b, c = base[name], cur[name]
        line = (f'{name:14s} {b["cpu"] * 1e3:9.0f} {c["cpu"] * 1e3:9.0f} {b["batch"] / b["cpu"]:10.2f} '
                f'{c["batch"] / c["cpu"]:10.2f} {b["cpu"] / c["cpu"]:6.2f}'
                f' {b["wall"] * 1e3:6.0f}/{c["wall"] * 1e3:<7.0f} {b["loss"]:9.4f}/{c["loss"]:<9.4f}')
        if amp:
            a = amp[name]
            line += f' {a["cpu"] * 1e3:9.0f} {c["cpu"] / a["cpu"]:9.2f}'
        if cl:
            n = cl[name]
            line += f' {n["cpu"] * 1e3:9.0f} {c["cpu"] / n["cpu"]:9.2f}'
        print(line)


if __name__ == '__main__':
    main()
