"""Draw the ground truth of a dataset AFTER its pipeline (check split, resize, flip, rotate by eye).

Each sample is built exactly as training sees it (``--phase train``: ``train_dataloader``),
then its ``gt_instances`` are drawn on the transformed image (rotated boxes for DOTA, hboxes
for COCO/VOC) with class names; ``ignored_instances`` (difficult / crowd) are drawn grey and
labelled ``ignored``. Pictures go to ``--output-dir`` as ``<image name>.png``.

Examples:
    python tools/analysis_tools/browse_dataset.py configs/rotated_ld/CFG.py --output-dir vis_train
    python tools/analysis_tools/browse_dataset.py CFG.py --output-dir vis --phase val --max-images 20
    python tools/analysis_tools/browse_dataset.py CFG.py --output-dir vis \\
        --cfg-options train_dataloader.dataset.data_root=data/split_ss_dota/
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))  # run from a checkout

from rotated_ld.utils.cli import add_debug_flag, cli_main  # noqa: E402  (torch-free)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Draw ground truth after the data pipeline',
                                epilog='examples:' + __doc__.split('Examples:')[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config', help='config file')
    p.add_argument('--output-dir', default=None, help='folder for the pictures (required unless --show)')
    p.add_argument('--phase', choices=['train', 'val', 'test'], default='train', help='which dataloader')
    p.add_argument('--max-images', type=int, default=None, help='stop after N images')
    p.add_argument('--show', action='store_true', help='also display each picture (needs a GUI)')
    p.add_argument('--not-show', action='store_true', help='accepted for mmdet compatibility (default)')
    p.add_argument('--show-interval', type=float, default=2, help='seconds per displayed image')
    p.add_argument('--cfg-options', nargs='+', metavar='KEY=VALUE', help='override config entries')
    add_debug_flag(p)
    args = p.parse_args(argv)
    if not args.output_dir and not args.show:
        p.error('give --output-dir (or --show)')
    return args


@cli_main('browse_dataset.py')
def main(argv=None) -> int:
    args = parse_args(argv)
    import numpy as np
    from mmengine.registry import init_default_scope
    from tqdm import tqdm

    from rotated_ld.registry import DATASETS
    from rotated_ld.utils.setup_env import load_config
    from rotated_ld.visualization import DetLocalVisualizer, save_rgb

    cfg = load_config(args.config, args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'rotated_ld'))
    loader = cfg.get(f'{args.phase}_dataloader')
    if not loader or 'dataset' not in loader:
        raise ValueError(f'the config has no {args.phase}_dataloader.dataset')
    dataset = DATASETS.build(loader['dataset'])
    vis = DetLocalVisualizer(name=f'browse_{id(args)}')
    vis.dataset_meta = dict(dataset.metainfo)
    classes = vis.dataset_meta.get('classes')
    palette = vis.dataset_meta.get('palette')
    n = len(dataset) if args.max_images is None else min(args.max_images, len(dataset))
    for i in tqdm(range(n), desc='browse', unit='img'):
        item = dataset[i]
        sample = item['data_samples']
        img = item['inputs'].permute(1, 2, 0).cpu().numpy()
        img = img.astype(np.uint8) if img.dtype != np.uint8 else img
        if img.shape[2] == 1:
            img = np.repeat(img, 3, 2)
        img = img[..., ::-1]  # pipelines carry BGR (mmcv convention); the visualizer draws RGB
        drawn = vis.draw_instances(img, sample.gt_instances, classes, palette) \
            if 'gt_instances' in sample else np.ascontiguousarray(img)
        if 'ignored_instances' in sample and len(sample.ignored_instances):
            ign = sample.ignored_instances
            n_ign = int(ign.labels.max()) + 1 if len(ign.labels) else 1
            drawn = vis.draw_instances(drawn, ign, ['ignored'] * max(n_ign, len(classes or [])),
                                       palette=[(160, 160, 160)] * max(n_ign, len(classes or [])))
        name = osp.splitext(osp.basename(sample.metainfo.get('img_path') or f'{i:06d}'))[0]
        if args.output_dir:
            save_rgb(osp.join(args.output_dir, name + '.png'), drawn)
        if args.show:
            vis.show(drawn, win_name=name, wait_time=args.show_interval)
    print(f'drew {n} of {len(dataset)} {args.phase} images' +
          (f' into {args.output_dir}' if args.output_dir else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
