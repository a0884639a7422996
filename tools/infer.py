"""Detect objects in images or large scenes; write a picture, a DOTA Task1-style txt and a json.

For each input image ``IMG`` (files, or folders of images) the tool writes to ``--out-dir``:

* ``IMG.png``  — the image with the detections drawn (rotated boxes, per-class colours,
  ``class score`` labels; line width and text size scale with the image, so 10k-px scenes stay
  readable);
* ``IMG.txt``  — one detection per line: ``IMG score x1 y1 x2 y2 x3 y3 x4 y4 class``
  (DOTA Task1 polygon order, full-image pixels); ``IMG`` is the image id, the file stem with
  whitespace replaced by ``_`` (``my scene.png`` -> ``my_scene``), the id ``eval_dota.py``,
  ``DOTAMetric`` and the submission checker use too (``rotated_ld.datasets.dota_patch_name.image_id``);
* ``IMG.json`` — image size, classes, and per detection ``label``, ``score``, ``bbox``
  (``cx, cy, w, h, t`` radians, or ``x1, y1, x2, y2`` for horizontal models) and ``poly``.

Images are cut into overlapping ``--patch-size`` windows (placed as by the DOTA split tool,
``--gap`` overlap, optional ``--rates`` for multi-scale) and the window results are merged with
the DOTA metric's merge (per-class rotated NMS, ``--nms-iou``); ``--patch-size 0`` runs the whole
image through the test pipeline at once (COCO-style images).

Examples:
    python tools/infer.py demo/P0001.png --config configs/rotated_ld/CFG.py --checkpoint ld.pth
    python tools/infer.py scenes/ --config CFG.py --checkpoint ld.pth --out-dir out --score-thr 0.3
    python tools/infer.py big.tif --config CFG.py --checkpoint ld.pth --patch-size 1024 --gap 200 \\
        --rates 0.5 1.0 --device cuda:0 --batch-size 8
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))  # run from a checkout

from rotated_ld.datasets.dota_patch_name import image_id  # noqa: E402
from rotated_ld.datasets.file_types import IMG_EXTS as _IMAGE_FILE_EXTS  # noqa: E402
from rotated_ld.utils.cli import InputError, add_debug_flag, cli_main  # noqa: E402  (torch-free)

IMG_EXTS = _IMAGE_FILE_EXTS + ('.npy',)  # .npy: an (H, W, 3) array, read lazily



def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Detect objects in images / large scenes',
                                epilog='examples:' + __doc__.split('Examples:')[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('images', nargs='+', help='image files or folders of images')
    p.add_argument('--config', required=True, help='model config file')
    p.add_argument('--checkpoint', required=True, help='checkpoint file')
    p.add_argument('--out-dir', default='outputs', help='output folder (default: outputs)')
    p.add_argument('--score-thr', type=float, default=0.3, help='keep detections >= this score (0.3)')
    p.add_argument('--patch-size', type=int, default=1024, help='window size; 0 = whole image at once')
    p.add_argument('--gap', type=int, default=200, help='window overlap in pixels (200)')
    p.add_argument('--rates', type=float, nargs='+', default=[1.0], help='scales for multi-scale windows')
    p.add_argument('--nms-iou', type=float, default=0.1, help='IoU of the per-class rotated NMS of the merge')
    p.add_argument('--batch-size', type=int, default=4, help='windows (or images) per forward pass')
    p.add_argument('--device', default=None, help="'cpu', 'cuda:0', ... (default: cuda if available)")
    p.add_argument('--no-png', action='store_true', help='skip drawing (txt + json only)')
    p.add_argument('--cfg-options', nargs='+', metavar='KEY=VALUE',
                   help='override config entries (as tools/test.py)')
    add_debug_flag(p)
    args = p.parse_args(argv)
    if args.patch_size < 0 or (args.patch_size and not 0 <= args.gap < args.patch_size):
        p.error(f'--gap {args.gap} must be in [0, --patch-size {args.patch_size})')
    if args.batch_size < 1:
        p.error(f'--batch-size {args.batch_size} must be >= 1')
    if any(r <= 0 for r in args.rates):
        p.error(f'--rates {args.rates} must be > 0')
    return args


def collect_images(inputs: list[str]) -> list[str]:
    """Expand folders; check every file exists, has a decoder and is complete (header and trailer
    checks, no full decode: a truncated JPEG would decode grey with only a libjpeg warning)."""
    import cv2

    from rotated_ld.datasets.split import image_file_problem

    paths = []
    for item in inputs:
        if osp.isdir(item):
            found = sorted(osp.join(item, f) for f in os.listdir(item) if f.lower().endswith(IMG_EXTS))
            if not found:
                raise InputError(f'no images ({", ".join(IMG_EXTS)}) in folder {item}')
            paths += found
        elif osp.isfile(item):
            paths.append(item)
        else:
            raise InputError(f'image not found: {item}')
    for path in paths:
        if path.lower().endswith('.npy'):
            continue
        try:
            ok = cv2.haveImageReader(path)
        except cv2.error:
            ok = False
        if not ok:
            raise InputError(f'cannot read image {path} (not an image, or a format OpenCV cannot decode)')
        problem = image_file_problem(path)
        if problem:
            raise InputError(f'cannot read image {path}: {problem}')
    return paths


def detections(sample, classes) -> list[dict]:
    """Detections of a data sample as plain dicts (bbox, poly in image pixels)."""
    import numpy as np

    from rotated_ld.visualization import rboxes_to_polys

    pred = sample.pred_instances
    boxes = pred.bboxes.detach().float().cpu().numpy()
    if boxes.ndim != 2:
        boxes = boxes.reshape(-1, 5)
    if boxes.shape[1] == 4:
        x0, y0, x1, y1 = boxes.T
        polys = np.stack([x0, y0, x1, y0, x1, y1, x0, y1], 1)
    else:
        polys = rboxes_to_polys(boxes)
    out = []
    for b, p, s, lb in zip(boxes, polys, pred.scores.tolist(), pred.labels.tolist()):
        name = classes[lb] if lb < len(classes) else f'class_{lb}'
        out.append(dict(label=name, label_id=int(lb), score=round(float(s), 5),
                        bbox=[round(float(v), 3) for v in b], poly=[round(float(v), 2) for v in p]))
    return out


def write_outputs(out_dir: str, stem: str, dets: list[dict], meta: dict) -> None:
    with open(osp.join(out_dir, stem + '.txt'), 'w', encoding='utf-8') as f:
        for d in dets:
            f.write(f'{stem} {d["score"]:.4f} ' + ' '.join(f'{v:.1f}' for v in d['poly'])
                    + f' {d["label"]}\n')
    with open(osp.join(out_dir, stem + '.json'), 'w', encoding='utf-8') as f:
        json.dump(dict(meta, detections=dets), f, indent=1)


def run(args) -> int:
    paths = collect_images(args.images)  # before the heavy imports: bad paths fail fast

    import numpy as np
    import torch
    from tqdm import tqdm

    from rotated_ld.apis import SceneReader, inference_detector, inference_detector_by_patches, init_detector
    from rotated_ld.utils.setup_env import parse_cfg_options
    from rotated_ld.visualization import DetLocalVisualizer, save_rgb

    args.cfg_options = parse_cfg_options(args.cfg_options)
    if args.device and args.device.startswith('cuda') and not torch.cuda.is_available():
        raise InputError(f'--device {args.device}: CUDA is not available on this machine')
    model = init_detector(args.config, args.checkpoint, device=args.device, cfg_options=args.cfg_options)
    classes = list(model.dataset_meta.get('classes') or [])
    vis = DetLocalVisualizer(name=f'infer_{os.getpid()}')
    vis.dataset_meta = model.dataset_meta
    os.makedirs(args.out_dir, exist_ok=True)
    total = 0
    for path in tqdm(paths, desc='images', unit='img', disable=len(paths) < 2):
        stem = image_id(path)  # the id of the result rows and the output file names (no whitespace)
        reader = SceneReader(path)
        if args.patch_size > 0:
            sample = inference_detector_by_patches(
                model, reader, patch_size=args.patch_size, gap=args.gap, rates=tuple(args.rates),
                batch_size=args.batch_size, score_thr=args.score_thr,
                nms_cfg=dict(type='nms_rotated', iou_threshold=args.nms_iou))
            tiles = int(sample.num_tiles)
            merge = dict(sample.merge_stats)
        else:
            sample = inference_detector(model, np.ascontiguousarray(reader.full()), img_ids=[stem])
            keep = sample.pred_instances.scores >= args.score_thr
            sample.pred_instances = sample.pred_instances[keep]
            tiles, merge = 1, None
        dets = detections(sample, classes)
        total += len(dets)
        meta = dict(image=osp.abspath(path), height=reader.height, width=reader.width, classes=classes,
                    tiles=tiles, patch_size=args.patch_size, gap=args.gap, rates=list(args.rates),
                    score_thr=args.score_thr, config=args.config, checkpoint=args.checkpoint, merge=merge)
        write_outputs(args.out_dir, stem, dets, meta)
        if not args.no_png:
            # drawn in BGR on one copy of the scene, written as is
            drawn = vis.draw_instances(reader.full(), sample.pred_instances, classes,
                                       model.dataset_meta.get('palette'), channel_order='bgr')
            save_rgb(osp.join(args.out_dir, stem + '.png'), drawn, channel_order='bgr')
        tqdm.write(f'{path}: {len(dets)} detections ({tiles} tiles)')
    print(f'wrote {len(paths)} result sets ({total} detections) to {args.out_dir}')
    return 0


@cli_main('infer.py')
def main(argv=None) -> int:
    return run(parse_args(argv))

if __name__ == '__main__':
    sys.exit(main())
