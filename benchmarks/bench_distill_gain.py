"""Distillation gain over several seeds on the demo's synthetic DOTA scenes (issues 7 and 8).

Same data, same iteration budgets, full-image mAP on merged val patches (``tools/demo.py``'s stages).
Two detector families, each with its own teacher (trained once) and, per seed:

``gfl`` (this project's angle-aware rotated GFL, le90; the demo's family)
  * ``teacher``    the demo's teacher: slim R-18, ``--teacher-iters``
  * ``student``    the plain slim R-18 student
  * ``ld``         the LD student (edge LD + angle LD + KD + VLR LD)
  * ``ld_edges``   the same without the angle term (edge-only LD)
``retina`` (published Rotated-LD: rotated RetinaNet with distribution deltas + KLD loss, oc)
  * ``retina_teacher``  slim R-34, ``--teacher-iters``
  * ``retina``          the plain slim R-18 student
  * ``retina_ld``       the Rotated-LD student (LD + KD, T 5, weights 15 / 15)

Prints mean ± std over seeds of mAP@[.5:.95] / AP50 / AP75 and of the paired gains
LD − student, angle-aware − edge-only LD, Rotated-LD − its student, and rotated GFL − rotated
RetinaNet (plain students and LD students), and writes ``distill_gain.{json,md}`` in ``--work-dir``.
Training runs are subprocesses (``tools/train.py``); ``--jobs N`` runs N of them at a time
(useful on a GPU or a many-core machine; on 2 CPU cores keep 1). Finished runs are reused when their
stage.json (tools/demo.py) equals the request, else rebuilt.

    python benchmarks/bench_distill_gain.py --seeds 0 1 2                       # demo budgets, both families
    python benchmarks/bench_distill_gain.py --seeds 0 1 2 3 4 --jobs 8 --families gfl --student-iters 400
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import multiprocessing as mp
import os
import os.path as osp
import statistics
import sys
import time

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..'))
sys.path.insert(0, osp.join(ROOT, 'tools'))
sys.path.insert(0, ROOT)

import demo  # noqa: E402  (tools/demo.py: data, training and evaluation stages)

RETINA = osp.join(ROOT, 'configs/rotated_retinanet')
FAMILIES = {
    'gfl': dict(
        teacher='teacher',
        variants={'student': [], 'ld': ['@teacher'], 'ld_edges': ['@teacher', 'model.bbox_head.distill_angle=False']}),
    'retina': dict(teacher='retina_teacher', variants={'retina': [], 'retina_ld': ['@teacher']}),
}
demo.CONFIGS.update(
    ld_edges=demo.CONFIGS['ld'],
    retina_teacher=osp.join(RETINA, 'rotated_retinanet_distribution_kld_r34-slim_fpn_synthetic_dota_oc.py'),
    retina=osp.join(RETINA, 'rotated_retinanet_distribution_kld_r18-slim_fpn_synthetic_dota_oc.py'),
    retina_ld=osp.join(ROOT, 'configs/rotated_ld_retinanet',
                       'rotated_ld_r18-slim-rretinanet-r34-slim_fpn_synthetic_dota_oc.py'))
demo.NAMES.update(ld_edges='LD student, edges only (R18 slim)',
                  retina_teacher='Rotated-LD teacher (R34 slim RetinaNet)',
                  retina='RetinaNet student (R18 slim)', retina_ld='Rotated-LD student (R18 slim)')
GAINS = (('ld', 'student', 'LD − student (rotated GFL)'),
         ('ld', 'ld_edges', 'angle-aware − edge-only LD'),
         ('retina_ld', 'retina', 'Rotated-LD − its student (RetinaNet)'),
         ('student', 'retina', 'rotated GFL − RetinaNet (plain students)'),
         ('ld', 'retina_ld', 'rotated GFL LD − Rotated-LD (LD students)'))
KEYS = ('mAP_50_95', 'AP50', 'AP75')


def _run(stage: str, args: argparse.Namespace, data_dir: str, iters: int, extra: list[str]) -> dict:
    """Train (a subprocess) and evaluate (in this worker process) one model; both cached on disk."""
    ckpt = demo.train(stage, args, data_dir, iters, extra)
    return demo.evaluate(stage, args, data_dir, ckpt, extra)


def _pool(jobs: int) -> cf.Executor:
    # fresh spawned workers: MMEngine's Runner keeps process-global state (scopes, message hub)
    return cf.ProcessPoolExecutor(jobs, mp_context=mp.get_context('spawn'), max_tasks_per_child=1)


def metric(m: dict, key: str) -> float:
    return next((v for k, v in m.items() if k.split('/')[-1] == key), float('nan'))


def mean_std(xs: list[float]) -> tuple[float, float]:
    return statistics.mean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def report(runs: dict[str, list[dict]], teachers: dict[str, dict], header: str) -> tuple[str, dict]:
    out: dict = {}
    lines = [header, '', '| model | ' + ' | '.join(KEYS) + ' | seeds |', '|---|' + '---|' * (len(KEYS) + 1)]
    for name, m in teachers.items():
        lines.append(f'| {demo.NAMES[name]} | ' + ' | '.join(f'{100 * metric(m, k):.1f}' for k in KEYS) + ' | 1 |')
        out[name] = {k: 100 * metric(m, k) for k in KEYS}
    for name, ms in runs.items():
        cells = []
        for k in KEYS:
            mu, sd = mean_std([100 * metric(m, k) for m in ms])
            cells.append(f'{mu:.1f} ± {sd:.1f}')
            out.setdefault(name, {})[k] = (mu, sd, [100 * metric(m, k) for m in ms])
        lines.append(f'| {demo.NAMES[name]} | ' + ' | '.join(cells) + f' | {len(ms)} |')
    lines += ['', '| paired gain (same seed) | ' + ' | '.join(KEYS) + ' | gain > std (mAP) |',
              '|---|' + '---|' * (len(KEYS) + 1)]
    for a, b, label in GAINS:
        if a in runs and b in runs:
            cells, clear = [], ''
            for k in KEYS:
                diffs = [100 * (metric(x, k) - metric(y, k)) for x, y in zip(runs[a], runs[b])]
                mu, sd = mean_std(diffs)
                cells.append(f'{mu:+.1f} ± {sd:.1f}')
                out.setdefault('gains', {}).setdefault(label, {})[k] = (mu, sd, diffs)
                if k == 'mAP_50_95':
                    clear = 'yes' if mu > sd else 'no'
            lines.append(f'| {label} | ' + ' | '.join(cells) + f' | {clear} |')
    return '\n'.join(lines), out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--work-dir', default='work_dirs/demo', help="the demo's work dir (data and teacher reused)")
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--families', nargs='+', default=list(FAMILIES), choices=list(FAMILIES))
    p.add_argument('--teacher-iters', type=int, default=demo.DEFAULTS['teacher_iters'])
    p.add_argument('--student-iters', type=int, default=demo.DEFAULTS['student_iters'])
    p.add_argument('--train-scenes', type=int, default=demo.DEFAULTS['train_scenes'])
    p.add_argument('--val-scenes', type=int, default=demo.DEFAULTS['val_scenes'])
    p.add_argument('--variants', nargs='+', help='only these runs per seed (e.g. student ld)')
    p.add_argument('--jobs', type=int, default=1, help='training runs at a time (GPU / many cores)')
    a = p.parse_args(argv)
    if a.jobs > 1:  # share the cores between the parallel runs; their logs go to <run>/train_stdout.log
        os.environ.setdefault('OMP_NUM_THREADS', str(max(1, (os.cpu_count() or 2) // a.jobs)))
        os.environ['RLD_DEMO_TRAIN_LOG'] = '1'
    t0 = time.time()
    common = ['--work-dir', a.work_dir, '--teacher-iters', str(a.teacher_iters), '--student-iters',
              str(a.student_iters), '--train-scenes', str(a.train_scenes), '--val-scenes', str(a.val_scenes)]
    base = demo.parse_args(common)
    data_dir = osp.join(a.work_dir, 'data')
    demo.make_data(base, data_dir)

    with _pool(a.jobs) as pool:
        futs = {f: pool.submit(_run, FAMILIES[f]['teacher'], base, data_dir, a.teacher_iters, [])
                for f in a.families}
        teachers = {FAMILIES[f]['teacher']: fut.result() for f, fut in futs.items()}
        jobs = {}
        for f in a.families:
            t_ckpt = demo.final_checkpoint(osp.join(a.work_dir, FAMILIES[f]['teacher']), a.teacher_iters)
            for seed in a.seeds:
                args = demo.parse_args(['--work-dir', osp.join(a.work_dir, f'seed{seed}'), '--seed', str(seed)]
                                       + common[2:])
                for name, extra in FAMILIES[f]['variants'].items():
                    if a.variants and name not in a.variants:
                        continue
                    extra = [f'model.teacher_ckpt={t_ckpt}' if e == '@teacher' else e for e in extra]
                    jobs[(name, seed)] = pool.submit(_run, name, args, data_dir, a.student_iters, extra)
        runs: dict[str, list[dict]] = {}
        for (name, _seed), fut in jobs.items():
            runs.setdefault(name, []).append(fut.result())

    header = (f'Seeds {a.seeds}; teacher {a.teacher_iters} / students {a.student_iters} iterations (batch 4, 384 px); '
              f'{a.train_scenes} train / {a.val_scenes} val synthetic scenes; full-image DOTA Task1 AP on merged '
              f'patches; {(time.time() - t0) / 60:.1f} min with {a.jobs} job(s).')
    text, out = report(runs, teachers, header)
    print('\n' + text)
    with open(osp.join(a.work_dir, 'distill_gain.md'), 'w') as f:
        f.write(text + '\n')
    with open(osp.join(a.work_dir, 'distill_gain.json'), 'w') as f:
        json.dump(out, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
