"""Split throughput (patches/s) of the DOTA image split with 1 and 2 processes on synthetic scenes.

Generates ``--scenes`` synthetic DOTA scenes (also timed: the "20-scene set in seconds" claim),
then splits them with the ss setting (``--size``/``--gap``, default 1024/200) and the synthetic
setting (512/200) into fresh folders with ``--nproc`` 1 and 2, and prints patches/s, images/s and
the speed-up of 2 processes over 1 measured in the same run. The 1-minute load average is printed
too: on a shared machine it explains noisy numbers.

    python benchmarks/bench_split.py                       # 20 scenes of 1500-2500 px
    python benchmarks/bench_split.py --scenes 8 --min-size 3000 --max-size 4000
"""
import argparse
import os
import os.path as osp
import resource
import shutil
import sys
import tempfile
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))

from rotated_ld.datasets.split import SplitConfig, split_dataset  # noqa: E402
from rotated_ld.datasets.synthetic import make_dota_scenes  # noqa: E402


def _cpu() -> float:
    """CPU seconds of this process and its finished children (load-independent cost)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--scenes', type=int, default=20)
    p.add_argument('--min-size', type=int, default=1500)
    p.add_argument('--max-size', type=int, default=2500)
    p.add_argument('--settings', nargs='+', default=['1024:200', '512:200'], help='SIZE:GAP pairs')
    p.add_argument('--nprocs', nargs='+', type=int, default=[1, 2])
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--workdir', default=None, help='scratch folder (default: a temp dir, removed after)')
    args = p.parse_args(argv)
    work = args.workdir or tempfile.mkdtemp(prefix='bench_split_')
    try:
        t = time.perf_counter()
        make_dota_scenes(osp.join(work, 'scenes'), num=args.scenes, size_range=(args.min_size, args.max_size),
                         seed=args.seed)
        gen = time.perf_counter() - t
        print(f'generate: {args.scenes} scenes of {args.min_size}-{args.max_size} px in {gen:.1f} s '
              f'({gen / args.scenes:.2f} s/scene, 1 process); load avg {os.getloadavg()[0]:.1f}')
        for setting in args.settings:
            size, gap = (int(v) for v in setting.split(':'))
            base = None
            for nproc in args.nprocs:
                out = osp.join(work, f'split_{size}_{gap}_{nproc}')
                c0 = _cpu()
                t = time.perf_counter()
                st = split_dataset([osp.join(work, 'scenes', 'images')], out, [osp.join(work, 'scenes', 'labelTxt')],
                                   SplitConfig(sizes=[size], gaps=[gap]), nproc=nproc, progress=False, logger=None)
                dt = time.perf_counter() - t
                cpu = _cpu() - c0
                rate = st.patches / dt
                base = base or rate
                print(f'split {size}/{gap} nproc={nproc}: {st.images} images -> {st.patches} patches in {dt:.1f} s '
                      f'= {rate:.1f} patches/s ({st.images / dt:.2f} images/s), objects in {st.objects_in}, '
                      f'written {st.objects_out}, lost {st.lost}; x{rate / base:.2f} vs nproc={args.nprocs[0]}; '
                      f'CPU {1000 * cpu / st.patches:.0f} ms/patch; load avg {os.getloadavg()[0]:.1f}')
                shutil.rmtree(out)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
