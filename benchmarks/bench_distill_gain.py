"""Distillation gain over several seeds on the demo's synthetic DOTA scenes (issue 8, part 5).

One teacher (the demo's), then for every seed, at equal iteration budgets:
  * ``student``   the plain slim rotated-GFL student,
  * ``ld``        the LD student (edges + angle + KD + VLR),
  * ``ld_edges``  LD with the angle term switched off (edge-only LD),
  * ``retina``    the published Rotated-LD family's slim student (rotated RetinaNet with
                  distribution deltas), when its synthetic config exists.
Prints mean ± std over seeds of full-image mAP@[.5:.95] / AP50 and of the gains
LD − student, LD − edge-only LD, and rotated GFL − rotated RetinaNet.

    python benchmarks/bench_distill_gain.py --seeds 0 1 2          # reuses work_dirs/demo's data + teacher
    python benchmarks/bench_distill_gain.py --seeds 0 1 2 --student-iters 600 --work-dir work_dirs/gain
"""
from __future__ import annotations

import argparse
import json
import os.path as osp
import statistics
import sys

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..'))
sys.path.insert(0, osp.join(ROOT, 'tools'))
sys.path.insert(0, ROOT)

import demo  # noqa: E402  (tools/demo.py: data, training and evaluation stages)

RETINA_CFG = osp.join(ROOT, 'configs/rotated_retinanet',
                      'rotated_retinanet_distribution_r18-slim_fpn_synthetic_dota_oc.py')


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--work-dir', default='work_dirs/demo', help="the demo's work dir (data and teacher reused)")
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--teacher-iters', type=int, default=400)
    p.add_argument('--student-iters', type=int, default=200)
    p.add_argument('--train-scenes', type=int, default=24)
    p.add_argument('--val-scenes', type=int, default=6)
    p.add_argument('--no-retina', action='store_true', help='skip the rotated RetinaNet comparison')
    a = p.parse_args(argv)
    base = demo.parse_args(['--work-dir', a.work_dir, '--teacher-iters', str(a.teacher_iters),
                            '--student-iters', str(a.student_iters), '--train-scenes', str(a.train_scenes),
                            '--val-scenes', str(a.val_scenes)])
    data_dir = osp.join(a.work_dir, 'data')
    demo.make_data(base, data_dir)
    teacher = demo.train('teacher', base, data_dir, a.teacher_iters)
    demo.CONFIGS['ld_edges'] = demo.CONFIGS['ld']
    demo.NAMES['ld_edges'] = 'LD student, edges only'
    variants = {'student': [], 'ld': [f'model.teacher_ckpt={teacher}'],
                'ld_edges': [f'model.teacher_ckpt={teacher}', 'model.bbox_head.distill_angle=False']}
    if not a.no_retina and osp.exists(RETINA_CFG):
        demo.CONFIGS['retina'], demo.NAMES['retina'] = RETINA_CFG, 'rotated RetinaNet (distribution deltas)'
        variants['retina'] = []
    runs: dict[str, list[dict]] = {k: [] for k in variants}
    for seed in a.seeds:
        args = demo.parse_args(['--work-dir', osp.join(a.work_dir, f'seed{seed}'), '--seed', str(seed)])
        for name, extra in variants.items():
            ckpt = demo.train(name, args, data_dir, a.student_iters, extra)
            runs[name].append(demo.evaluate(name, args, data_dir, ckpt))

    def metric(m: dict, key: str) -> float:
        return next((v for k, v in m.items() if k.split('/')[-1] == key), float('nan'))

    def stat(xs):
        return (statistics.mean(xs), statistics.stdev(xs) if len(xs) > 1 else 0.0)

    report = {}
    lines = ['| model / gain | mAP@[.5:.95] | AP50 |', '|---|---|---|']
    for name, ms in runs.items():
        cells = []
        for key in ('mAP', 'AP50'):
            mu, sd = stat([100 * metric(m, key) for m in ms])
            cells.append(f'{mu:.1f} ± {sd:.1f}')
            report[f'{name}/{key}'] = (mu, sd)
        lines.append(f'| {demo.NAMES[name]} | ' + ' | '.join(cells) + ' |')
    for a_name, b_name, label in (('ld', 'student', 'LD − student'), ('ld', 'ld_edges', 'angle-aware − edge-only LD'),
                                  ('student', 'retina', 'rotated GFL − rotated RetinaNet')):
        if a_name in runs and b_name in runs:
            cells = []
            for key in ('mAP', 'AP50'):
                mu, sd = stat([100 * (metric(x, key) - metric(y, key)) for x, y in zip(runs[a_name], runs[b_name])])
                cells.append(f'{mu:+.1f} ± {sd:.1f}')
                report[f'{label}/{key}'] = (mu, sd)
            lines.append(f'| {label} | ' + ' | '.join(cells) + ' |')
    text = '\n'.join(lines)
    print(f'\nseeds {a.seeds}, {a.student_iters} student iterations, teacher {a.teacher_iters}:\n\n{text}')
    with open(osp.join(a.work_dir, 'distill_gain.json'), 'w') as f:
        json.dump(report, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
