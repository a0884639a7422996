"""Check a DOTA Task1 submission zip before uploading it: OK, or a list of problems with file:line.

Checks: Task1_<class>.txt at the zip root, one per class of the set, rows
'image_id score x1 y1 x2 y2 x3 y3 x4 y4' with finite numbers, original image ids (no split-patch
names such as P0000__1024__0___824), and with --image-list every image present and no unknown one.
Exit code 0 when OK, 1 when problems were found, 2 on usage errors.

Examples:
    python tools/data/dota/check_submission.py work_dirs/x/Task1/Task1.zip --classes dota1.0
    python tools/data/dota/check_submission.py Task1.zip --classes dota1.5 --image-list data/DOTA/test/images
    python tools/data/dota/check_submission.py Task1.zip --classes dota2.0 --image-list test_ids.txt --allow-missing
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..')))  # run from a checkout

from rotated_ld.utils.cli import InputError, add_debug_flag, cli_main  # noqa: E402  (torch-free)
from rotated_ld.evaluation.functional.submission_check import check_submission  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], epilog=__doc__.split('\n', 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('zip', help='submission zip (or a folder of Task1_<class>.txt)')
    p.add_argument('--classes', default='dota1.0',
                   help="dota1.0 | dota1.5 | dota2.0, a class-list file or 'a,b,c' (default dota1.0)")
    p.add_argument('--image-list', help='expected image ids: a text file (one per line) or the image folder')
    p.add_argument('--allow-missing', action='store_true',
                   help='listed images without any detection are warnings, not problems')
    p.add_argument('--show', type=int, default=20, help='problems listed per kind (default 20)')
    add_debug_flag(p)
    return p.parse_args(argv)


@cli_main('check_submission.py')
def main(argv=None) -> int:
    args = parse_args(argv)
    report = check_submission(args.zip, args.classes, args.image_list, args.allow_missing, args.show)
    print(report)
    if not report.ok:  # the submission is bad input: exit 2 and one stderr line (rotated_ld.utils.cli)
        kinds = ', '.join(f'{k}: {n}' for k, n in report.counts().items())
        raise InputError(f'{args.zip}: {len(report.problems)} problems ({kinds}); first: {report.problems[0]}'[:600])
    return 0


if __name__ == '__main__':
    sys.exit(main())
