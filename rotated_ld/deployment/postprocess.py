"""Decode exported dense outputs into detections — pure torch, no model, no config.

Input: the ONNX outputs of :func:`rotated_ld.deployment.export.export_onnx` (``cls_logits``
``(B, N, C)``, ``bbox_pred`` ``(B, N, D)``, ``angle_logits`` ``(B, N, K)`` for rotated GFL) and its
deploy meta (the ``<model>.json`` next to the ONNX file, or the ONNX ``metadata_props``).
Output per image: ``dict(bboxes, scores, labels)`` exactly as the PyTorch ``predict()``
(xyxy for GFL; ``(cx, cy, w, h, t)`` radians in ``angle_version`` for rotated heads).

Decoding steps (the same maths as the heads; every step is a small function below):

1. **Priors** from the input size: feature-map size per level ``(H_l, W_l)`` (in the meta), grid
   ``x = (j + offset)·s``, ``y = (i + offset)·s`` row-major per level, levels concatenated;
   RetinaNet: 9 anchors per location (ratio-major ``(w, h)`` in the meta), ``(cx, cy, w, h, 0)``;
   with ``anchors.compat`` (imported mmrotate weights) the anchors and the box decoding are
   mmrotate's float32 ones (``RotatedAnchorGenerator`` / ``DeltaXYWHAOBBoxCoder`` with ``compat``,
   centres clamped at ``W − 1`` / ``H − 1``).
2. **Distribution expectation** ``Σ_k softmax(z)_k · s_k`` per block of ``R = reg_max + 1``
   logits (GFL: ``s_k = k`` stride units; distribution RetinaNet: ``s = linspace(lo, hi, R)`` of
   each delta's range).
3. **Angle** (rotated GFL, circular coder): ``p = softmax(z)``, ``φ_k = (k + ½)·2π/K``,
   ``θ = θ_min + (P/2π)·atan2(Σ p_k sin φ_k, Σ p_k cos φ_k)`` wrapped into ``[θ_min, θ_min + P)``
   (``θ_min, P`` of the internal angle version); plain coder: the raw value.
4. **Boxes**: GFL ``(x − l·s, y − t·s, x + r·s, y + b·s)`` clipped to the image; rotated GFL
   ``w = l + r``, ``h = t + b``, centre ``p + R(θ)·((r − l)/2, (b − t)/2)`` (times the stride);
   RetinaNet ``DeltaXYWHAOBBoxCoder`` (``dx·w_a``, ``exp(dw)·w_a``, ``a + da``, optional
   ``proj_xy`` / ``norm_factor`` / ``edge_swap``).
5. **Selection + NMS** as the head's ``test_cfg``: GFL heads: per level the ``nms_pre`` best
   (location, class) pairs above ``score_thr``, rescale, class-wise NMS (``torchvision`` /
   :func:`rotated_ld.ops.batched_nms_rotated`), ``max_per_img``; RetinaNet: per level the
   ``nms_pre`` locations by max class score, :func:`rotated_ld.ops.multiclass_nms_rotated`.
   Rotated boxes are finally regularised into ``angle_version``.
"""
from __future__ import annotations

import json
import math
import os.path as osp
from typing import Optional, Sequence, Union

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from torch import Tensor
from torchvision.ops import batched_nms

from rotated_ld.models.task_modules.coders import DeltaXYWHAOBBoxCoder
from rotated_ld.models.task_modules.prior_generators import RotatedAnchorGenerator
from rotated_ld.ops import batched_nms_rotated, multiclass_nms_rotated
from rotated_ld.structures.bbox import norm_angle, regularize_rboxes, rescale_rboxes, wrap_angle

META_KEY = 'rotated_ld.deploy'


def load_deploy_meta(path: str) -> dict:
    """Deploy meta of an exported model: ``<stem>.json`` next to ``path`` if present, else the
    ONNX ``metadata_props`` (needs the ``onnx`` package)."""
    side = osp.splitext(path)[0] + '.json'
    if path.endswith('.json') or osp.isfile(side):
        with open(path if path.endswith('.json') else side) as f:
            return json.load(f)
    for kv in onnx.load(path, load_external_data=False).metadata_props:
        if kv.key == META_KEY:
            return json.loads(kv.value)
    raise ValueError(f'{path}: no {META_KEY} metadata (not exported by tools/deployment/export_onnx.py?)')


# ------------------------------------------------------------------------------------------ priors
def featmap_sizes_for(shape: Sequence[int], strides: Sequence[int]) -> list[list[int]]:
    """Feature-map ``[h, w]`` per level for a padded input ``(H, W)``: ``ceil(size / stride)`` (every
    stride-2 conv / pool of ResNet + FPN rounds up, and nested round-ups compose)."""
    return [[math.ceil(int(shape[0]) / s), math.ceil(int(shape[1]) / s)] for s in strides]


def grid_points(featmap_sizes: Sequence[Sequence[int]], strides: Sequence[int], offset: float = 0.0) -> Tensor:
    """``(A, 4)`` priors ``(x, y, stride, stride)``, level-major, row-major inside a level."""
    out = []
    for (h, w), s in zip(featmap_sizes, strides):
        ys, xs = torch.meshgrid((torch.arange(h, dtype=torch.float32) + offset) * s,
                                (torch.arange(w, dtype=torch.float32) + offset) * s, indexing='ij')
        out.append(torch.stack([xs.reshape(-1), ys.reshape(-1), torch.full((h * w,), float(s)),
                                torch.full((h * w,), float(s))], 1))
    return torch.cat(out)


def retina_anchors(featmap_sizes: Sequence[Sequence[int]], strides: Sequence[int],
                   base_wh: Sequence[Sequence[Sequence[float]]], center_offset: float = 0.0) -> Tensor:
    """``(N, 5)`` anchors ``(cx, cy, w, h, 0)``: per level, location-major then anchor."""
    out = []
    for (h, w), s, wh in zip(featmap_sizes, strides, base_wh):
        ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32) * s + center_offset * s,
                                torch.arange(w, dtype=torch.float32) * s + center_offset * s, indexing='ij')
        ctr = torch.stack([xs.reshape(-1), ys.reshape(-1)], -1)
        wh = torch.as_tensor(wh, dtype=torch.float32)
        n, a = ctr.shape[0], wh.shape[0]
        lvl = torch.cat([ctr[:, None].expand(n, a, 2), wh[None].expand(n, a, 2), torch.zeros(n, a, 1)], -1)
        out.append(lvl.reshape(-1, 5))
    return torch.cat(out)


# ------------------------------------------------------------------------------------------ decoding
def expectation(logits: Tensor, support: Tensor) -> Tensor:
    """``(..., D·R)`` logits → ``(..., D)`` ``Σ softmax · support``; ``support`` (R,) or (D, R)."""
    R = support.shape[-1]
    # explicit block count: a level with no candidate (0 rows) must still decode to (0, D)
    z = logits.float().reshape(*logits.shape[:-1], logits.shape[-1] // R, R)
    return (F.softmax(z, -1) * support).sum(-1)


def circular_angle(logits: Tensor, theta_min: float, period: float) -> Tensor:
    """Circular mean of ``softmax(logits)`` over ``K`` bins (see module docstring), radians."""
    K = logits.shape[-1]
    p = F.softmax(logits.float(), -1)
    phi = (torch.arange(K, dtype=torch.float32) + 0.5) * (2 * math.pi / K)
    a = torch.atan2((p * phi.sin()).sum(-1), (p * phi.cos()).sum(-1))
    return wrap_angle(theta_min + a * (period / (2 * math.pi)), theta_min, period)


def delta_decode(anchors: Tensor, deltas: Tensor, coder: dict) -> Tensor:
    """Rotated RetinaNet deltas ``(N, 5)`` against anchors ``(N, 5)`` → rboxes (not regularised)."""
    d = deltas * torch.tensor(coder['stds']) + torch.tensor(coder['means'])
    dx, dy, dw, dh, da = d.unbind(-1)
    px, py, pw, ph, pa = anchors.unbind(-1)
    if coder.get('norm_factor'):
        da = da * (coder['norm_factor'] * math.pi)
    clip = abs(math.log(coder['wh_ratio_clip']))
    gw, gh = pw * dw.clamp(-clip, clip).exp(), ph * dh.clamp(-clip, clip).exp()
    ox, oy = dx * pw, dy * ph
    if coder.get('proj_xy'):
        c, s = pa.cos(), pa.sin()
        ox, oy = c * ox - s * oy, s * ox + c * oy
    version = coder['angle_version']

    def wrap(a: Tensor) -> Tensor:  # the coder's wrap_delta_angle: oc is not wrapped (as mmrotate)
        return a if version == 'oc' else norm_angle(a, version)

    ga = wrap(pa + da)
    if coder.get('edge_swap'):
        keep = gw >= gh
        gw, gh, ga = torch.where(keep, gw, gh), torch.where(keep, gh, gw), wrap(torch.where(keep, ga, ga + math.pi / 2))
    return torch.stack([px + ox, py + oy, gw, gh, ga], -1)


def _topk_pairs(scores: Tensor, thr: float, k: int) -> tuple[Tensor, Tensor, Tensor]:
    """(location, class) pairs with score > thr, best ``k`` (all if k ≤ 0): scores, labels, locations."""
    valid = scores > thr
    vals, idx = scores[valid], valid.nonzero()
    vals, order = vals.sort(descending=True)
    n = min(k, idx.shape[0]) if k > 0 else idx.shape[0]
    idx = idx[order[:n]]
    return vals[:n], idx[:, 1], idx[:, 0]


def _level_slices(meta: dict) -> list[tuple[int, int]]:
    a = int(meta.get('num_base_priors', 1))
    out, start = [], 0
    for h, w in meta['featmap_sizes']:
        out.append((start, start + h * w * a))
        start += h * w * a
    return out


def _nms(boxes: Tensor, scores: Tensor, labels: Tensor, cfg: dict, rotated: bool) -> Tensor:
    if boxes.numel() == 0:
        return torch.zeros((0,), dtype=torch.long)
    typ = cfg['nms'].get('type', 'nms')
    if typ not in ('nms', 'nms_rotated'):
        raise ValueError(f"nms type {typ!r} is not reproduced here (only 'nms' / 'nms_rotated'); "
                         'use the PyTorch model for voting / soft NMS')
    if rotated:
        return batched_nms_rotated(boxes.float(), scores.float(), labels, cfg['nms']['iou_threshold'])
    return batched_nms(boxes.float(), scores.float(), labels, cfg['nms']['iou_threshold'])


def _as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else torch.from_numpy(np.asarray(x))


# ------------------------------------------------------------------------------------------ per head
def _gfl_image(cls, reg, ang, meta, img_shape, scale_factor, rotated: bool) -> dict:
    cfg = meta['test_cfg']
    R = meta['reg_max'] + 1
    pri = grid_points(meta['featmap_sizes'], meta['strides'], meta.get('prior_offset', 0.0))
    support = torch.arange(R, dtype=torch.float32)
    boxes_l, scores_l, labels_l = [], [], []
    for s0, s1 in _level_slices(meta):
        sc, lb, keep = _topk_pairs(cls[s0:s1].float().sigmoid(), cfg['score_thr'], cfg['nms_pre'])
        p = pri[s0:s1][keep]
        dist = expectation(reg[s0:s1][keep], support)  # (k, 4) stride units
        if rotated:
            c = meta['angle_coder']
            a = ang[s0:s1][keep]
            theta = circular_angle(a, c['theta_min'], c['period']) if c['type'] == 'CircularAngleCoder' \
                else a[:, 0].float()
            l, t, r, b = dist.unbind(-1)
            ox, oy = (r - l) / 2, (b - t) / 2
            cx = p[:, 0] / p[:, 2] + theta.cos() * ox - theta.sin() * oy
            cy = p[:, 1] / p[:, 3] + theta.sin() * ox + theta.cos() * oy
            st = p[:, 2]
            boxes_l.append(torch.stack([cx * st, cy * st, (l + r) * st, (t + b) * st, theta], -1))
        else:
            d = dist * p[:, 2:].repeat(1, 2)
            bx = torch.stack([p[:, 0] - d[:, 0], p[:, 1] - d[:, 1], p[:, 0] + d[:, 2], p[:, 1] + d[:, 3]], -1)
            if img_shape is not None:
                h, w = img_shape[0], img_shape[1]
                bx = torch.stack([bx[:, 0].clamp(0, w), bx[:, 1].clamp(0, h), bx[:, 2].clamp(0, w),
                                  bx[:, 3].clamp(0, h)], -1)
            boxes_l.append(bx)
        scores_l.append(sc)
        labels_l.append(lb)
    boxes, scores, labels = torch.cat(boxes_l), torch.cat(scores_l), torch.cat(labels_l)
    if scale_factor is not None:
        sx, sy = float(scale_factor[0]), float(scale_factor[1])
        if rotated:
            boxes = rescale_rboxes(boxes, sx, sy)
        else:
            boxes = boxes / boxes.new_tensor([sx, sy, sx, sy])
    if cfg.get('min_bbox_size', -1) >= 0:
        wh = boxes[:, 2:4] if rotated else boxes[:, 2:] - boxes[:, :2]
        ok = (wh > cfg['min_bbox_size']).all(1)
        boxes, scores, labels = boxes[ok], scores[ok], labels[ok]
    keep = _nms(boxes, scores, labels, cfg, rotated)
    if cfg.get('max_per_img', -1) > 0:
        keep = keep[:cfg['max_per_img']]
    boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
    if rotated:
        boxes = regularize_rboxes(boxes, meta['angle_version'])
    return dict(bboxes=boxes, scores=scores, labels=labels)


def _mmrotate_compat_decoding(meta: dict):
    """Anchors ``(N, 5)`` and a decode function for an export in an mmrotate compat mode."""
    a, c = meta['anchors'], meta['bbox_coder']
    gen = RotatedAnchorGenerator(strides=meta['strides'], ratios=a['ratios'], scales=a['scales'],
                                 center_offset=a.get('center_offset', 0.0), compat=a['compat'],
                                 angle_version=a.get('angle_version'))
    coder = DeltaXYWHAOBBoxCoder(angle_version=c['angle_version'], norm_factor=c['norm_factor'],
                                 edge_swap=c['edge_swap'], proj_xy=c['proj_xy'], target_means=c['means'],
                                 target_stds=c['stds'], wh_ratio_clip=c['wh_ratio_clip'], compat=c.get('compat'))
    return torch.cat(gen.grid_priors(meta['featmap_sizes'])), coder.decode


def _retina_image(cls, reg, meta, scale_factor, img_shape=None) -> dict:
    cfg = meta['test_cfg']
    if meta['anchors'].get('compat'):
        anchors, compat_decode = _mmrotate_compat_decoding(meta)
    else:
        compat_decode = None
        anchors = retina_anchors(meta['featmap_sizes'], meta['strides'], meta['anchors']['base_wh'],
                                 meta['anchors'].get('center_offset', 0.0))
    if meta.get('reg_max') is not None:
        R = meta['reg_max'] + 1
        support = torch.stack([torch.linspace(lo, hi, R) for lo, hi in meta['delta_ranges']])
    boxes_l, scores_l = [], []
    for s0, s1 in _level_slices(meta):
        sc, pri, rg = cls[s0:s1].float().sigmoid(), anchors[s0:s1], reg[s0:s1]
        k = cfg['nms_pre']
        if 0 < k < sc.shape[0]:
            keep = sc.max(1).values.topk(k).indices
            sc, pri, rg = sc[keep], pri[keep], rg[keep]
        deltas = expectation(rg, support) if meta.get('reg_max') is not None else rg.float()
        if compat_decode is not None:  # mmrotate clamps centres into the image (W - 1, H - 1)
            boxes_l.append(compat_decode(pri, deltas, max_shape=tuple(img_shape) if img_shape is not None else None))
        else:
            boxes_l.append(delta_decode(pri, deltas, meta['bbox_coder']))
        scores_l.append(sc)
    boxes, scores = regularize_rboxes(torch.cat(boxes_l), meta['angle_version']), torch.cat(scores_l)
    if cfg.get('min_bbox_size', 0) > 0:
        ok = (boxes[:, 2] > cfg['min_bbox_size']) & (boxes[:, 3] > cfg['min_bbox_size'])
        boxes, scores = boxes[ok], scores[ok]
    if scale_factor is not None:  # as the head: undo the resize, back into the angle version
        boxes = regularize_rboxes(rescale_rboxes(boxes, float(scale_factor[0]), float(scale_factor[1])),
                                  meta['angle_version'])
    if boxes.numel() == 0:
        return dict(bboxes=boxes.new_zeros((0, 5)), scores=boxes.new_zeros((0,)),
                    labels=torch.zeros((0,), dtype=torch.long))
    b, s, lab, _ = multiclass_nms_rotated(boxes, scores, cfg['score_thr'], cfg['nms']['iou_threshold'],
                                          cfg.get('max_per_img', -1))
    return dict(bboxes=b, scores=s, labels=lab)


def postprocess(outputs: Union[dict, Sequence], meta: Union[dict, str],
                img_shapes: Optional[Sequence[Sequence[int]]] = None,
                scale_factors: Optional[Sequence[Sequence[float]]] = None,
                input_shape: Optional[Sequence[int]] = None) -> list[dict]:
    """Detections from the exported dense outputs.

    Args:
        outputs: ``{name: array}`` (onnxruntime results by name) or the outputs in graph order.
        meta: deploy meta dict, or a path (``.onnx`` / ``.json``).
        img_shapes: per image ``(h, w)`` of the network input before padding (GFL clips boxes to it,
            mmrotate-compat RetinaNet clamps centres into it);
            default: the network input shape.
        input_shape: ``(H, W)`` of the (padded) batch fed to the graph. A dynamic export decodes
            any shape (feature maps ``ceil(size / stride)``); a static one only its export shape.
            Default: the export shape.
        scale_factors: per image ``(w_scale, h_scale)`` of the resize applied before the network;
            boxes are divided by it (original-image coordinates). Default: none.

    Returns:
        per image ``dict(bboxes, scores, labels)`` (torch tensors) as ``predict()`` returns them.
    """
    if isinstance(meta, str):
        meta = load_deploy_meta(meta)
    names = ['cls_logits', 'bbox_pred'] + (['angle_logits'] if meta['kind'] == 'rotated_gfl' else [])
    if not isinstance(outputs, dict):
        outputs = dict(zip(names, outputs))
    t = {n: _as_tensor(outputs[n]) for n in names}
    B, N = t['cls_logits'].shape[:2]
    export_shape = list(meta['input']['shape'][2:])
    if input_shape is not None and [int(s) for s in input_shape] != export_shape:
        if not meta.get('dynamic'):
            raise ValueError(f'input_shape {list(input_shape)}: this export has the static shape {export_shape}; '
                             're-export with --dynamic (or at this shape)')
        meta = dict(meta, featmap_sizes=featmap_sizes_for(input_shape, meta['strides']),
                    input=dict(meta['input'], shape=[B, 3, int(input_shape[0]), int(input_shape[1])]))
    expected = sum(h * w for h, w in meta['featmap_sizes']) * int(meta.get('num_base_priors', 1))
    if N != expected:
        raise ValueError(f'outputs have {N} priors, the meta {expected} (featmap sizes {meta["featmap_sizes"]}): '
                         'decode with the meta of the same export')
    shape = meta['input']['shape'][2:]
    res = []
    for i in range(B):
        ishape = img_shapes[i] if img_shapes is not None else shape
        sf = scale_factors[i] if scale_factors is not None else None
        if meta['kind'] == 'rotated_retina':
            res.append(_retina_image(t['cls_logits'][i], t['bbox_pred'][i], meta, sf, ishape))
        else:
            res.append(_gfl_image(t['cls_logits'][i], t['bbox_pred'][i], t.get('angle_logits', [None] * B)[i],
                                  meta, ishape, sf, meta['kind'] == 'rotated_gfl'))
    return res


__all__ = ['load_deploy_meta', 'featmap_sizes_for', 'grid_points', 'retina_anchors', 'expectation', 'circular_angle',
           'delta_decode', 'postprocess']
