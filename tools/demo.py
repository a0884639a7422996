"""The offline demo: synthetic aerial scenes → split → teacher → plain and LD students → full-image mAP.

Everything runs on the CPU from data the demo generates itself (nothing is downloaded):

1. ``data``     synthetic DOTA-format scenes (``--train-scenes`` / ``--val-scenes``, 1000–1600 px)
                and their split into 512 px patches with a 200 px gap (the DOTA split tool).
2. ``teacher``  a slim rotated GFL detector with the angle as a periodic distribution, trained
                ``--teacher-iters`` iterations: the students' architecture with twice their
                iterations (on 2 CPU cores iterations decide, not depth or width; docs/demo.md).
3. ``student``  the slim student, trained ``--student-iters`` iterations without distillation.
4. ``ld``       the same student, same iterations, distilled from the teacher (edge LD + angle LD
                + KD on the main region, VLR LD).
5. ``eval``     every model on the val patches, merged back to the full scenes (per-class rotated
                NMS) and scored against the full-scene labels with the DOTA Task1 rules.
6. a table (mAP@[.5:.95], AP50, AP75, per class AP50) and a picture of the LD student's detections
   on a full val scene.

Each stage writes ``stage.json``: what made it (scene counts, data seed, iterations, training seed,
config hash, the records of its inputs, package version). A re-run reuses a stage only when that
record equals the request; otherwise it says so in one line and rebuilds the stage (an interrupted
training run resumes only under an equal record). ``--fresh`` deletes ``--work-dir`` first.
``--quick`` works in its own ``work_dirs/demo_quick`` unless ``--work-dir`` is given.

Examples:
    python tools/demo.py                                   # default budget (under 30 min on 2 idle cores)
    python tools/demo.py --quick                           # a few-minute smoke run in work_dirs/demo_quick
    python tools/demo.py --teacher-iters 3000 --student-iters 1200 --train-scenes 80 --work-dir work_dirs/big
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..'))
sys.path.insert(0, ROOT)  # run from a checkout

CONFIGS = dict(
    teacher=osp.join(ROOT, 'configs/demo/rotated-gfl_r18-slim_fpn_synthetic-dota_le90.py'),
    student=osp.join(ROOT, 'configs/demo/rotated-gfl_r18-slim_fpn_synthetic-dota_le90.py'),
    ld=osp.join(ROOT, 'configs/demo/rotated-ld_r18-slim-rgfl-r18-slim-long_fpn_synthetic-dota_le90.py'),
)
NAMES = dict(teacher='teacher (R18 slim, longer)', student='student (R18 slim)', ld='LD student (R18 slim)')
# The default budget fits 30 minutes on 2 idle CPU cores (docs/demo.md has the measured stage times).
DEFAULTS = dict(train_scenes=24, val_scenes=6, teacher_iters=260, student_iters=130)
QUICK = dict(train_scenes=4, val_scenes=2, teacher_iters=40, student_iters=20)
WORK_DIRS = dict(default='work_dirs/demo', quick='work_dirs/demo_quick')  # a smoke run never touches the real one
SCENE_SIZES = (1000, 1600)
SPLIT = dict(size=512, gap=200)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Offline LD demo on synthetic DOTA scenes',
                                epilog='examples:' + __doc__.split('Examples:')[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--work-dir', help=f'where data, checkpoints and results go (default {WORK_DIRS["default"]}; '
                                      f'with --quick {WORK_DIRS["quick"]})')
    for key in DEFAULTS:
        p.add_argument('--' + key.replace('_', '-'), type=int,
                       help=f'default {DEFAULTS[key]} ({QUICK[key]} with --quick)')
    p.add_argument('--seed', type=int, default=0, help='training seed (the data seed is fixed)')
    p.add_argument('--data-seed', type=int, default=2026)
    p.add_argument('--quick', action='store_true', help='tiny budget to check the pipeline (minutes)')
    p.add_argument('--fresh', action='store_true', help='delete --work-dir first')
    p.add_argument('--stages', nargs='+', default=['data', 'teacher', 'student', 'ld', 'eval'],
                   choices=['data', 'teacher', 'student', 'ld', 'eval'], help='run only these stages')
    args = p.parse_args(argv)
    budget = QUICK if args.quick else DEFAULTS
    for k, v in budget.items():  # explicit flags win over either budget
        if getattr(args, k) is None:
            setattr(args, k, v)
    if args.work_dir is None:
        args.work_dir = WORK_DIRS['quick' if args.quick else 'default']
    return args


def log(msg: str) -> None:
    print(f'[demo {time.strftime("%H:%M:%S")}] {msg}', flush=True)


# ------------------------------------------------------------------------------------------ records
RECORD = 'stage.json'


def _version() -> str:
    from rotated_ld.version import __version__

    return __version__


def record_hash(record: dict) -> str:
    """Short hash of a stage record (what a later stage keys on)."""
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:12]


def config_hash(config: str) -> str:
    """Hash of the resolved config (the file and all its ``_base_`` files, merged)."""
    from mmengine.config import Config

    text = json.dumps(Config.fromfile(config).to_dict(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def read_record(folder: str) -> dict | None:
    path = osp.join(folder, RECORD)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def write_record(folder: str, record: dict, complete: bool) -> None:
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, RECORD + '.tmp')
    with open(tmp, 'w') as f:
        json.dump(dict(record, complete=complete), f, indent=1, sort_keys=True)
    os.replace(tmp, osp.join(folder, RECORD))


def differences(old: dict, new: dict) -> str:
    keys = sorted(k for k in set(old) | set(new) if k != 'complete' and old.get(k) != new.get(k))
    return ', '.join(f'{k} {old.get(k)!r} → {new.get(k)!r}' for k in keys)


def prepare(name: str, folder: str, record: dict) -> str:
    """Compare ``folder``'s record with the requested one: ``'reuse'`` (equal and complete),
    ``'resume'`` (equal, interrupted) or ``'build'`` (nothing there, or made otherwise: deleted
    with one line saying why)."""
    old = read_record(folder)
    if old is not None and {k: v for k, v in old.items() if k != 'complete'} == record:
        return 'reuse' if old.get('complete') else 'resume'
    if osp.isdir(folder) and os.listdir(folder):
        why = differences(old, record) if old is not None else 'no record of what made it'
        log(f'{name}: {folder} was made otherwise ({why}): rebuilding it')
        shutil.rmtree(folder)
    return 'build'


# ---------------------------------------------------------------------------------------------- data
def data_record(args) -> dict:
    return dict(stage='data', train_scenes=args.train_scenes, val_scenes=args.val_scenes, data_seed=args.data_seed,
                scene_sizes=list(SCENE_SIZES), split=SPLIT, version=_version())


def make_data(args, data_dir: str) -> None:
    from rotated_ld.datasets.split import SplitConfig, split_dataset
    from rotated_ld.datasets.synthetic import make_dota_scenes

    record = data_record(args)
    if prepare('data', data_dir, record) == 'reuse':
        log(f'data: reusing {data_dir} ({args.train_scenes} train / {args.val_scenes} val scenes)')
        return
    write_record(data_dir, record, complete=False)
    for split, num, start in (('train', args.train_scenes, 0), ('val', args.val_scenes, 10_000)):
        raw = osp.join(data_dir, 'scenes', split)
        done = osp.join(raw, '.done')
        if not osp.exists(done):
            log(f'generating {num} synthetic {split} scenes in {raw}')
            make_dota_scenes(raw, num=num, size_range=SCENE_SIZES, seed=args.data_seed, start=start,
                             nproc=min(2, os.cpu_count() or 1))
            open(done, 'w').close()
        out = osp.join(data_dir, 'split', split)
        log(f'splitting {split} scenes into {SPLIT["size"]} px patches (gap {SPLIT["gap"]}) in {out}')
        split_dataset([osp.join(raw, 'images')], out, ann_dirs=[osp.join(raw, 'labelTxt')],
                      cfg=SplitConfig(sizes=(SPLIT['size'],), gaps=(SPLIT['gap'],), rates=(1.0,)),
                      nproc=min(2, os.cpu_count() or 1), logger=lambda m: log(str(m)))
    write_record(data_dir, record, complete=True)


def checked_data(args, data_dir: str) -> str:
    """Hash of the data record, refusing data made with other parameters than requested."""
    old, want = read_record(data_dir), data_record(args)
    if old is None or not old.get('complete'):
        raise SystemExit(f'demo: no finished data in {data_dir}: run the data stage (--stages data ...)')
    old = {k: v for k, v in old.items() if k != 'complete'}
    if old != want:
        raise SystemExit(f'demo: the data in {data_dir} was made otherwise ({differences(old, want)}): '
                         'include the data stage (--stages data ...) or pass --fresh')
    return record_hash(want)


def data_options(data_dir: str) -> list[str]:
    split = osp.join(data_dir, 'split')
    val_gt = osp.join(data_dir, 'scenes', 'val', 'labelTxt') + '/'
    return [f'train_dataloader.dataset.data_root={split}/', f'test_dataloader.dataset.data_root={split}/',
            f'test_evaluator.gt_dir={val_gt}']


# ------------------------------------------------------------------------------------------- train
def final_checkpoint(work_dir: str, iters: int) -> str:
    return osp.join(work_dir, f'iter_{iters}.pth')


def _input_records(extra) -> dict:
    """Records of the stages whose checkpoints an option names (e.g. an LD student's teacher)."""
    out = {}
    for opt in extra:
        key, _, value = opt.partition('=')
        if value.endswith('.pth'):
            rec = read_record(osp.dirname(value))
            out[key] = record_hash({k: v for k, v in rec.items() if k != 'complete'}) if rec else value
    return out


def _portable(opt: str, work_dir: str) -> str:
    """An option as recorded: checkpoint paths relative to the work dir (the same run under another
    spelling of the path is the same request; what the checkpoint holds is keyed by ``inputs``)."""
    key, _, value = opt.partition('=')
    return f'{key}={osp.relpath(value, work_dir)}' if value.endswith('.pth') else opt


def train_record(stage: str, args, data_dir: str, iters: int, extra) -> dict:
    return dict(stage=stage, iters=iters, seed=args.seed, config=osp.relpath(CONFIGS[stage], ROOT),
                config_hash=config_hash(CONFIGS[stage]), options=[_portable(o, args.work_dir) for o in extra],
                inputs=_input_records(extra), data=checked_data(args, data_dir), version=_version())


def train(stage: str, args, data_dir: str, iters: int, extra: list[str] = ()) -> str:
    work = osp.join(args.work_dir, stage)
    ckpt = final_checkpoint(work, iters)
    record = train_record(stage, args, data_dir, iters, extra)
    state = prepare(NAMES[stage], work, record)
    if state == 'reuse' and osp.exists(ckpt):
        log(f'{NAMES[stage]}: reusing {ckpt}')
        return ckpt
    write_record(work, record, complete=False)
    warmup = min(50, max(1, iters // 5))
    opts = data_options(data_dir) + [f'train_cfg.max_iters={iters}', f'randomness.seed={args.seed}',
                                     f'param_scheduler.0.end={warmup}', f'param_scheduler.1.begin={warmup}',
                                     *extra]
    cmd = [sys.executable, osp.join(ROOT, 'tools/train.py'), CONFIGS[stage], '--work-dir', work]
    if state == 'resume' and osp.exists(osp.join(work, 'last_checkpoint')):
        cmd.append('--resume')  # an interrupted run of the same request continues where it stopped
    cmd += ['--cfg-options', *opts]
    log(f'{NAMES[stage]}: training {iters} iterations → {work}')
    t0 = time.time()
    if os.environ.get('RLD_DEMO_TRAIN_LOG'):  # parallel runs (benchmarks/bench_distill_gain.py --jobs)
        with open(osp.join(work, 'train_stdout.log'), 'a') as f:
            r = subprocess.run(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT)
    else:
        r = subprocess.run(cmd, cwd=ROOT)
    if r.returncode != 0:
        raise SystemExit(f'demo: training {stage} failed (exit {r.returncode}); its log is under {work}')
    log(f'{NAMES[stage]}: done in {(time.time() - t0) / 60:.1f} min')
    with open(osp.join(work, 'train_time.json'), 'w') as f:
        json.dump(dict(seconds=time.time() - t0, iters=iters), f)
    write_record(work, record, complete=True)
    return ckpt


def finished_checkpoint(stage: str, args, data_dir: str, iters: int, extra) -> str | None:
    """The checkpoint of a stage not run now, if its record equals what this run would train."""
    work = osp.join(args.work_dir, stage)
    ckpt = final_checkpoint(work, iters)
    rec = read_record(work)
    if rec is None or not osp.exists(ckpt):
        return None
    want = train_record(stage, args, data_dir, iters, extra)
    if rec.get('complete') and {k: v for k, v in rec.items() if k != 'complete'} == want:
        return ckpt
    log(f'{NAMES[stage]}: {work} was made otherwise ({differences(rec, want)}): not used (run its stage)')
    return None


# -------------------------------------------------------------------------------------------- eval
def evaluate(stage: str, args, data_dir: str, ckpt: str, extra: list[str] = ()) -> dict:
    folder = osp.join(args.work_dir, stage, 'eval')
    out = osp.join(args.work_dir, stage, 'full_image_metrics.json')
    model = read_record(osp.dirname(ckpt)) or {}
    record = dict(stage='eval', model=record_hash({k: v for k, v in model.items() if k != 'complete'}),
                  checkpoint=osp.basename(ckpt), data=checked_data(args, data_dir),
                  options=[_portable(o, args.work_dir) for o in extra],
                  config_hash=config_hash(CONFIGS[stage]), version=_version())
    if prepare(f'{NAMES[stage]} evaluation', folder, record) == 'reuse' and osp.exists(out):
        with open(out) as f:
            return json.load(f)
    write_record(folder, record, complete=False)
    from mmengine.config import Config
    from mmengine.runner import Runner

    from rotated_ld.utils.setup_env import parse_cfg_options

    cfg = Config.fromfile(CONFIGS[stage])
    # the training options too (e.g. a distilled model's model.teacher_ckpt), parsed as --cfg-options
    cfg.merge_from_dict(parse_cfg_options([*data_options(data_dir), *extra]))
    cfg.work_dir = folder
    cfg.load_from = ckpt
    cfg.test_evaluator.outfile_prefix = osp.join(args.work_dir, stage, 'Task1')
    cfg.test_evaluator.classwise = True
    log(f'{NAMES[stage]}: evaluating on the merged full val scenes')
    metrics = Runner.from_cfg(cfg).test()
    metrics = {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))}
    with open(out, 'w') as f:
        json.dump(metrics, f, indent=1)
    write_record(folder, record, complete=True)
    return metrics


def table(results: dict) -> str:
    keys = [('mAP_50_95', 'mAP@[.5:.95]'), ('AP50', 'AP50'), ('AP75', 'AP75')]

    def pick(m: dict, key: str):
        for k, v in m.items():
            if k.split('/')[-1] == key:
                return v
        return float('nan')

    lines = ['| model | ' + ' | '.join(h for _, h in keys) + ' |', '|---|' + '---|' * len(keys)]
    for stage, m in results.items():
        lines.append(f'| {NAMES[stage]} | ' + ' | '.join(f'{100 * pick(m, k):.1f}' for k, _ in keys) + ' |')
    classes = sorted({k.split('/')[-1][len('AP50_'):] for m in results.values() for k in m
                      if k.split('/')[-1].startswith('AP50_')})
    if classes:
        lines += ['', '| class | ' + ' | '.join(NAMES[s] for s in results) + ' |', '|---|' + '---|' * len(results)]
        for c in classes:
            lines.append(f'| {c} | ' + ' | '.join(f'{100 * pick(m, "AP50_" + c):.1f}' for m in results.values())
                         + ' |')
    return '\n'.join(lines)


def picture(args, data_dir: str, ckpt: str) -> str | None:
    val_imgs = osp.join(data_dir, 'scenes', 'val', 'images')
    imgs = sorted(os.listdir(val_imgs))
    if not imgs:
        return None
    out_dir = osp.join(args.work_dir, 'pictures')
    cmd = [sys.executable, osp.join(ROOT, 'tools/infer.py'), osp.join(val_imgs, imgs[0]), '--config',
           CONFIGS['ld'], '--checkpoint', ckpt, '--out-dir', out_dir, '--patch-size', '512', '--gap', '200',
           '--score-thr', '0.15']  # short CPU budgets give modest scores
    r = subprocess.run(cmd, cwd=ROOT)
    png = osp.join(out_dir, osp.splitext(imgs[0])[0] + '.png')
    return png if r.returncode == 0 and osp.exists(png) else None


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.fresh and osp.isdir(args.work_dir):
        shutil.rmtree(args.work_dir)
    os.makedirs(args.work_dir, exist_ok=True)
    data_dir = osp.join(args.work_dir, 'data')
    t0 = time.time()
    if 'data' in args.stages:
        make_data(args, data_dir)
    ckpts, extras = {}, {}
    teacher_iters = args.teacher_iters
    for stage, iters in (('teacher', teacher_iters), ('student', args.student_iters), ('ld', args.student_iters)):
        extra = [f'model.teacher_ckpt={final_checkpoint(osp.join(args.work_dir, "teacher"), teacher_iters)}'] \
            if stage == 'ld' else []
        extras[stage] = extra
        if stage in args.stages:
            ckpts[stage] = train(stage, args, data_dir, iters, extra)
        elif 'eval' in args.stages:
            found = finished_checkpoint(stage, args, data_dir, iters, extra)
            if found:
                ckpts[stage] = found
    if 'eval' in args.stages:
        results = {s: evaluate(s, args, data_dir, c, extras[s]) for s, c in ckpts.items()}
        text = table(results)
        with open(osp.join(args.work_dir, 'results.md'), 'w') as f:
            f.write(text + '\n')
        with open(osp.join(args.work_dir, 'results.json'), 'w') as f:
            json.dump(results, f, indent=1)
        print('\nFull-image rotated AP on the synthetic val scenes (DOTA Task1 rules, merged patches):\n')
        print(text)
        if 'ld' in ckpts:
            png = picture(args, data_dir, ckpts['ld'])
            if png:
                log(f'picture of the LD student on a full val scene: {png}')
    log(f'finished in {(time.time() - t0) / 60:.1f} min; results in {args.work_dir}/results.md')
    return 0


if __name__ == '__main__':
    sys.exit(main())
