"""Cost of localization distillation per training step, and proof that LD costs nothing at inference.

Times, on the same random batch and device (after warm-up, synchronised):
  (a) the student alone: a plain GFL training step (forward + backward + SGD step);
  (b) the teacher forward alone (backbone + neck + head, ``no_grad``, eval mode);
  (c) the LD student: the KD detector's training step (student step + teacher forward + LD/KD losses).
and prints the distillation overhead ``(c − a − b) / a`` (target ≤ 10 %). Then it copies the LD
student's weights into the plain student and checks that inference is the same graph: identical
state-dict keys, identical predictions and the same time per image.

Examples:
  python benchmarks/bench_ld_overhead.py                       # synthetic slim config, CPU/GPU
  python benchmarks/bench_ld_overhead.py configs/ld/ld-vlr-kd_r50-gfl-r101_fpn_1x_coco.py \
      --img-size 800 1216 --batch-size 2 --iters 20             # real R-101 -> R-50 on a GPU
  python benchmarks/bench_ld_overhead.py configs/ld/ld_r18-gfl-r101_fpn_1x_coco.py --device cuda
"""
from __future__ import annotations

import argparse
import copy
import os.path as osp
import statistics
import sys
import time
import warnings

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from mmengine.structures import InstanceData  # noqa: E402

DEFAULT = 'configs/ld/ld-vlr-kd_r18-slim-gfl-r18-slim_fpn_synthetic_coco.py'
LD_KEYS = ('loss_ld', 'loss_ld_vlr', 'loss_kd', 'loss_kd_vlr', 'loss_im', 'imitation_method', 'vlr',
           'distill_cfg', 'gibox_cfg', 'distiller')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config', nargs='?', default=DEFAULT, help=f'an LD config (default {DEFAULT})')
    p.add_argument('--batch-size', type=int, default=2)
    p.add_argument('--img-size', type=int, nargs=2, default=(416, 416), metavar=('H', 'W'))
    p.add_argument('--num-gts', type=int, default=8, help='random GT boxes per image')
    p.add_argument('--iters', type=int, default=10, help='timed iterations (median reported)')
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--amp', action='store_true', help='bf16/fp16 autocast for the forward passes')
    p.add_argument('--threads', type=int, default=1,
                   help='CPU threads (1: process CPU time is then free of OpenMP spin-waits)')
    return p.parse_args(argv)


def make_batch(n, size, num_gts, num_classes, seed=0):
    from rotated_ld.structures import DetDataSample

    g = torch.Generator().manual_seed(seed)
    h, w = size
    inputs, samples = [], []
    for i in range(n):
        inputs.append(torch.randint(0, 255, (3, h, w), generator=g, dtype=torch.uint8))
        s = DetDataSample(metainfo=dict(img_id=i, img_shape=(h, w), ori_shape=(h, w),
                                        scale_factor=(1.0, 1.0)))
        wh = torch.rand(num_gts, 2, generator=g) * torch.tensor([w, h]) * 0.4 + 16
        xy = torch.rand(num_gts, 2, generator=g) * (torch.tensor([w, h]) - wh)
        gt = InstanceData()
        gt.bboxes = torch.cat([xy, xy + wh], 1)
        gt.labels = torch.randint(0, num_classes, (num_gts,), generator=g)
        s.gt_instances = gt
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def student_cfg(ld_model_cfg):
    """The plain GFL student of an LD config: same backbone/neck/head, no teacher, no LD terms."""
    cfg = copy.deepcopy(ld_model_cfg)
    cfg.type = 'SingleStageDetector'
    for k in ('teacher_config', 'teacher_ckpt', 'eval_teacher'):
        cfg.pop(k, None)
    cfg.bbox_head.type = 'GFLHead'
    for k in LD_KEYS:
        cfg.bbox_head.pop(k, None)
    return cfg


def _sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def timed_rounds(fns, iters, warmup, device):
    """Interleaved timing: each round runs every fn once, so load changes hit all of them alike.

    Returns per fn the list of (wall, cpu) seconds; cpu = process CPU time (all threads), which
    is what matters on a shared CPU machine (the wall clock there mostly measures other jobs).
    """
    for _ in range(warmup):
        for fn in fns:
            fn()
    out = [[] for _ in fns]
    for _ in range(iters):
        for i, fn in enumerate(fns):
            _sync(device)
            t, tc = time.perf_counter(), time.process_time()
            fn()
            _sync(device)
            out[i].append((time.perf_counter() - t, time.process_time() - tc))
    return out


def med(samples, k):
    return statistics.median(s[k] for s in samples)


def main(argv=None):
    args = parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    import rotated_ld.models  # noqa: F401
    from rotated_ld.registry import MODELS

    DefaultScope.get_instance('bench_ld_overhead', scope_name='rotated_ld')
    cfg = Config.fromfile(args.config)
    cfg.model.teacher_ckpt = None  # random weights: the cost does not depend on them
    dev = args.device
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        ld_model = MODELS.build(cfg.model).to(dev)
        plain = MODELS.build(student_cfg(cfg.model)).to(dev)
    plain.load_state_dict(ld_model.state_dict(), strict=True)
    teacher = ld_model.teacher
    ncls = ld_model.bbox_head.num_classes
    batch = make_batch(args.batch_size, tuple(args.img_size), args.num_gts, ncls)
    amp_dtype = torch.bfloat16 if dev == 'cpu' else torch.float16

    def autocast():
        return torch.autocast(dev.split(':')[0], dtype=amp_dtype, enabled=args.amp)

    def train_step(model, opt):
        def step():
            data = model.data_preprocessor(batch, training=True)
            with autocast():
                losses = model(**data, mode='loss')
            loss = sum(v for k, v in losses.items() if 'loss' in k)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return step

    plain.train()
    ld_model.train()
    opt_a = torch.optim.SGD(plain.parameters(), lr=1e-4, momentum=0.9)
    opt_c = torch.optim.SGD(ld_model.parameters(), lr=1e-4, momentum=0.9)

    def teacher_fwd():
        data = ld_model.data_preprocessor(batch, training=True)
        with torch.no_grad(), autocast():
            teacher.bbox_head(teacher.extract_feat(data['inputs']))

    ra, rb, rc = timed_rounds([train_step(plain, opt_a), teacher_fwd, train_step(ld_model, opt_c)],
                              args.iters, args.warmup, dev)
    k = 0 if dev.startswith('cuda') else 1  # GPU: wall clock; CPU: process CPU time
    a, b, c = med(ra, k), med(rb, k), med(rc, k)
    overhead = (c - a - b) / a
    per_round = statistics.median((z[k] - x[k] - y[k]) / x[k] for x, y, z in zip(ra, rb, rc))

    # inference: copy the (trained) LD student into the plain student; same graph, same outputs
    plain.load_state_dict(ld_model.state_dict(), strict=True)
    plain.eval()
    ld_model.eval()
    test_batch = make_batch(1, tuple(args.img_size), args.num_gts, ncls, seed=1)

    def predict(model):
        def run():
            with torch.no_grad(), autocast():
                data = model.data_preprocessor(test_batch, training=False)
                return model(**data, mode='predict')
        return run

    p_plain = predict(plain)()[0].pred_instances
    p_ld = predict(ld_model)()[0].pred_instances
    same_keys = list(plain.state_dict()) == list(ld_model.state_dict())
    same_out = (torch.equal(p_plain.bboxes, p_ld.bboxes) and torch.equal(p_plain.scores, p_ld.scores)
                and torch.equal(p_plain.labels, p_ld.labels))
    ri_plain, ri_ld = timed_rounds([predict(plain), predict(ld_model)], args.iters, args.warmup, dev)
    ti_plain, ti_ld = med(ri_plain, k), med(ri_ld, k)

    name = torch.cuda.get_device_name(0) if dev.startswith('cuda') else f'cpu ({torch.get_num_threads()} threads)'
    print(f'config      : {args.config}')
    print(f'device      : {name}   batch {args.batch_size} x {args.img_size[0]}x{args.img_size[1]}, '
          f'{args.num_gts} GTs/img, amp={args.amp}, median of {args.iters}')
    unit = 'wall' if k == 0 else 'process CPU time'
    print(f'timing      : {unit}; wall medians a/b/c = {med(ra, 0) * 1e3:.0f} / {med(rb, 0) * 1e3:.0f} / '
          f'{med(rc, 0) * 1e3:.0f} ms')
    print(f'(a) student train step       : {a * 1e3:9.1f} ms')
    print(f'(b) teacher forward (no_grad): {b * 1e3:9.1f} ms')
    print(f'(c) LD student train step    : {c * 1e3:9.1f} ms')
    print(f'distillation overhead (c-a-b)/a = {overhead * 100:+.1f} %  (target <= 10 %); '
          f'median of per-round overheads {per_round * 100:+.1f} %')
    print(f'inference plain / LD student : {ti_plain * 1e3:.1f} / {ti_ld * 1e3:.1f} ms '
          f'(ratio {ti_ld / ti_plain:.3f}); same state-dict keys: {same_keys}; '
          f'identical predictions: {same_out}')
    return dict(a=a, b=b, c=c, overhead=overhead, per_round=per_round, infer_plain=ti_plain, infer_ld=ti_ld,
                same_keys=same_keys, same_out=same_out)


if __name__ == '__main__':
    main()
