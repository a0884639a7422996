"""Split large DOTA scenes into patches: same flags, json configs and output as mmrotate 1.x.

Output: ``SAVE_DIR/images/{image}__{size}__{x}___{y}.png`` and ``SAVE_DIR/annfiles/{same}.txt``.
A json given by ``--base-json`` sets the defaults (keys = flag names with ``_``); flags given on
the command line override it. Re-running skips finished images. Logic and behaviour notes:
:mod:`rotated_ld.datasets.split.img_split`.

Examples:
    python tools/data/dota/split/img_split.py --base-json tools/data/dota/split/split_configs/ss_trainval.json
    python tools/data/dota/split/img_split.py --base-json tools/data/dota/split/split_configs/ms_test.json
    python tools/data/dota/split/img_split.py --img-dirs data/syn/train/images \\
        --ann-dirs data/syn/train/labelTxt --sizes 512 --gaps 200 --save-dir data/syn_split/train --nproc 2
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..', '..')))

from rotated_ld.utils.cli import add_debug_flag, cli_main  # noqa: E402  (torch-free)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--base-json', type=str, default=None, help='json config file for split images')
    p.add_argument('--nproc', type=int, default=10, help='the procession number')
    p.add_argument('--img-dirs', nargs='+', type=str, default=None, help='images dirs, must give a value')
    p.add_argument('--ann-dirs', nargs='+', type=str, default=None,
                   help='annotations dirs, optional (none: image-only mode)')
    p.add_argument('--sizes', nargs='+', type=int, default=[1024], help='the sizes of sliding windows')
    p.add_argument('--gaps', nargs='+', type=int, default=[200], help='the overlaps of sliding windows')
    p.add_argument('--rates', nargs='+', type=float, default=[1.0],
                   help='same as DOTA devkit rate, but only changes the window size (see --rescale)')
    p.add_argument('--img-rate-thr', type=float, default=0.6, help='the minimal rate of image in window')
    p.add_argument('--iof-thr', type=float, default=0.7, help='the minimal iof between an object and a window')
    p.add_argument('--no-padding', action='store_true', help='do not pad patches to the regular size')
    p.add_argument('--padding-value', nargs='+', type=int, default=[104, 116, 124],
                   help='padding value, 1 or channel number')
    p.add_argument('--save-dir', type=str, default='.', help='to save split images and annfiles')
    p.add_argument('--save-ext', type=str, default='.png', help='the extension of saving images')
    p.add_argument('--png-compression', type=int, default=0,
                   help='PNG zlib level of the patches: 0 = stored (default; fastest split and patch decoding, '
                        '~2x the disk space), 1-9 = smaller and slower, -1 = OpenCV default (what mmrotate '
                        'writes). Pixels are the same for every level; a re-run may change it')
    p.add_argument('--rescale', action='store_true',
                   help='DOTA_devkit style multi-scale: resize the image by each rate and cut --sizes '
                        'windows; patch names carry the rate (P0000__0.5__0___0)')
    p.add_argument('--no-progress', action='store_true', help='no progress bar')
    add_debug_flag(p)
    return p


def parse_args(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.base_json is not None:
        try:
            with open(args.base_json, encoding='utf-8') as f:
                prior = json.load(f)
        except (OSError, ValueError) as e:
            parser.error(f'--base-json {args.base_json}: cannot read a JSON object ({e})')
        if not isinstance(prior, dict):
            parser.error(f'--base-json {args.base_json}: expected a JSON object of flag values')
        known = {a.dest for a in parser._actions}
        unknown = sorted(set(prior) - known)
        if unknown:
            parser.error(f'{args.base_json}: unknown keys {unknown}; valid: {sorted(known - {"help"})}')
        for action in parser._actions:
            if action.dest in prior:
                action.default = prior[action.dest]
        args = parser.parse_args(argv)  # command-line flags override the json
    if not args.img_dirs:
        parser.error('--img-dirs (or img_dirs in --base-json) must be given')
    if args.ann_dirs is not None and len(args.ann_dirs) != len(args.img_dirs):
        parser.error(f'--ann-dirs has {len(args.ann_dirs)} entries, --img-dirs {len(args.img_dirs)}')
    return args


@cli_main('img_split.py')
def main(argv=None):
    args = parse_args(argv)
    # after parsing: --help and usage errors answer without loading OpenCV / numpy / shapely
    from rotated_ld.datasets.split import SplitConfig, finished_images, split_dataset

    print(f'img_split: img_dirs={args.img_dirs} ann_dirs={args.ann_dirs} sizes={args.sizes} gaps={args.gaps} '
          f'rates={args.rates} -> {args.save_dir}')
    # bad paths, unreadable images, malformed labelTxt (file:line), bad params: one line, exit 2 (utils.cli)
    cfg = SplitConfig(sizes=args.sizes, gaps=args.gaps, rates=args.rates, img_rate_thr=args.img_rate_thr,
                      iof_thr=args.iof_thr, no_padding=args.no_padding, padding_value=args.padding_value,
                      save_ext=args.save_ext, rescale=args.rescale, png_compression=args.png_compression)
    try:
        return split_dataset(args.img_dirs, args.save_dir, args.ann_dirs, cfg, nproc=args.nproc,
                             progress=not args.no_progress)
    except KeyboardInterrupt:  # files are written temp + rename: what exists is complete, re-running resumes
        print(f'\nimg_split.py: interrupted; {finished_images(args.save_dir)} images are finished in '
              f'{args.save_dir}. Run the same command again to resume (finished images are skipped).',
              file=sys.stderr)
        sys.exit(130)


if __name__ == '__main__':
    result = main()  # the split statistics, or an exit code
    sys.exit(result if isinstance(result, int) else 0)
