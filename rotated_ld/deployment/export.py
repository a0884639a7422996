"""ONNX export of a detector's dense outputs (student only) and the metadata needed to decode them.

The graph is ``image → preprocessing → backbone → neck → head → flatten levels``; everything after
(priors, distribution expectation, angle decoding, score filtering, NMS) runs outside the graph in
:mod:`rotated_ld.deployment.postprocess` (pure torch, no model), because NMS and data-dependent
top-k do not export portably and users want to pick their own thresholds.

Graph input ``image``: ``(B, 3, H, W)`` float32 raw pixel values in the channel order of the
dataset pipeline (cv2: **BGR**), already resized and padded to the export shape (``--shape``,
a multiple of the config's ``pad_size_divisor``). The graph applies the model's
``DetDataPreprocessor`` normalisation (channel swap, ``(x − mean) / std``).

Graph outputs (``N`` = number of priors over all levels, level-major, then row-major locations,
then anchors — exactly the order of the head's ``flatten``):

* ``cls_logits``  ``(B, N, C)``: class logits; scores are ``sigmoid``.
* ``bbox_pred``   ``(B, N, D)``: GFL / rotated GFL: ``D = 4(reg_max+1)`` edge-distribution logits
  (l, t, r, b blocks, stride units; rotated GFL: in the box frame); rotated RetinaNet:
  ``D = 5(reg_max+1)`` delta-distribution logits (dx, dy, dw, dh, da blocks) or ``D = 5`` plain
  deltas.
* ``angle_logits`` ``(B, N, K)`` (rotated GFL only): angle-bin logits (``K = 1``: raw angle).

The decoding parameters (strides, feature-map sizes, reg_max, coders, anchors, angle version,
test_cfg, class names) are written as JSON into the ONNX ``metadata_props`` (key
:data:`META_KEY`) and next to the file (``<out>.json``); see ``docs/deployment.md``.

Static (default) or dynamic shape: ``dynamic=True`` makes batch, height and width free (outputs:
batch and ``N``). Heights and widths must stay multiples of the largest backbone stride (32); the
feature-map sizes then follow ``ceil(size / stride)``, which the export checks on two shapes and
records in the meta (``dynamic``), and :func:`~rotated_ld.deployment.postprocess.postprocess`
recomputes them from its ``input_shape``.
"""
from __future__ import annotations

import inspect
import json
import math
import os.path as osp
import time
import warnings
from typing import Optional, Sequence

import numpy as np
import onnx
import torch
from torch import Tensor, nn

from rotated_ld.models.dense_heads import GFLHead, RotatedRetinaHead

from .postprocess import featmap_sizes_for

META_KEY = 'rotated_ld.deploy'
SUPPORTED_HEADS = ('GFLHead', 'LDHead', 'RotatedGFLHead', 'RotatedLDHead', 'RotatedRetinaHead',
                   'RotatedLDRetinaHead')


def head_kind(head: nn.Module) -> str:
    """``'gfl'`` | ``'rotated_gfl'`` | ``'rotated_retina'`` (by the head's capabilities, so LD
    heads export like the plain ones: the distribution head by its box geometry)."""
    if isinstance(head, GFLHead):
        return 'rotated_gfl' if head.box_type == 'rbox' else 'gfl'
    if isinstance(head, RotatedRetinaHead) and head.box_type == 'rbox':  # not the horizontal RetinaGFLHead
        return 'rotated_retina'
    raise ValueError(f'{type(head).__name__} cannot be exported; supported heads: {SUPPORTED_HEADS}')


class DenseExportWrapper(nn.Module):
    """``image (B, 3, H, W)`` raw pixels → flattened dense outputs (see module docstring).

    Holds only the student (``model.backbone``, ``model.neck``, ``model.bbox_head``) and the
    preprocessing constants; a KD teacher (kept outside the module tree) never enters the graph.
    """

    def __init__(self, model: nn.Module, normalize: bool = True) -> None:
        super().__init__()
        self.backbone, self.neck, self.bbox_head = model.backbone, model.neck, model.bbox_head
        self.kind = head_kind(self.bbox_head)
        if getattr(self.bbox_head, 'quality_mode', 'qfl') != 'qfl':  # ATSS / FCOS: scores need the centerness
            raise ValueError(f'{type(self.bbox_head).__name__} (quality_mode={self.bbox_head.quality_mode!r}) '
                             'cannot be exported yet: the exported graph has no centerness output; supported '
                             f'heads: {SUPPORTED_HEADS}')
        dp = getattr(model, 'data_preprocessor', None)
        self.swap = bool(getattr(dp, '_channel_conversion', False)) and normalize
        use_norm = bool(getattr(dp, '_enable_normalize', False)) and normalize
        mean = dp.mean.detach().clone().reshape(1, -1, 1, 1) if use_norm else torch.zeros(1, 3, 1, 1)
        std = dp.std.detach().clone().reshape(1, -1, 1, 1) if use_norm else torch.ones(1, 3, 1, 1)
        self.register_buffer('mean', mean.float())
        self.register_buffer('std', std.float())
        self.num_anchors = int(getattr(self.bbox_head, 'num_base_priors', 1) or 1)

    def forward(self, image: Tensor) -> tuple[Tensor, ...]:
        x = image
        if self.swap:
            x = x[:, [2, 1, 0]]
        x = (x - self.mean) / self.std
        feats = self.backbone(x)
        if self.neck is not None:
            feats = self.neck(feats)
        outs = self.bbox_head(tuple(feats))
        B = image.shape[0]
        flat = []
        for per_level in outs:
            ch = per_level[0].shape[1] // self.num_anchors
            flat.append(torch.cat([p.permute(0, 2, 3, 1).reshape(B, -1, ch) for p in per_level], 1))
        return tuple(flat)


def output_names(kind: str) -> list[str]:
    return ['cls_logits', 'bbox_pred'] + (['angle_logits'] if kind == 'rotated_gfl' else [])


def _featmap_sizes(wrapper: DenseExportWrapper, shape: Sequence[int]) -> list[list[int]]:
    with torch.no_grad():
        x = torch.zeros(1, 3, *shape)
        feats = wrapper.backbone(x)
        if wrapper.neck is not None:
            feats = wrapper.neck(feats)
    return [list(f.shape[-2:]) for f in feats]


def check_dynamic_rule(wrapper: DenseExportWrapper, shape: Sequence[int], strides: Sequence[int]) -> None:
    """Raise ``ValueError`` unless the model's feature maps follow :func:`featmap_sizes_for` at
    ``shape`` and at a second, non-square shape (a dynamic export decodes with that rule)."""
    for s in (tuple(shape), (int(shape[0]) + 32, int(shape[1]) + 64)):
        got, rule = _featmap_sizes(wrapper, s), featmap_sizes_for(s, strides)
        if got != rule:
            raise ValueError(f'dynamic export: at input {s} the feature maps are {got}, not ceil(size / stride) = '
                             f'{rule} for strides {list(strides)}; export with a static shape instead')


def _strides(head: nn.Module) -> list[int]:
    return [int(s[0]) if isinstance(s, (tuple, list)) else int(s) for s in head.strides]


def _plain(v):
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, Tensor):
        return v.tolist()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def deploy_meta(model: nn.Module, shape: Sequence[int], classes: Optional[Sequence[str]] = None) -> dict:
    """Everything :func:`rotated_ld.deployment.postprocess.postprocess` needs, as plain JSON types."""
    wrapper = DenseExportWrapper(model)
    head, kind = model.bbox_head, wrapper.kind
    sizes = _featmap_sizes(wrapper, shape)
    strides = _strides(head)
    test_cfg = dict(head.test_cfg or {})
    nms = dict(test_cfg.get('nms') or {})
    meta = dict(
        format_version=1, head=type(head).__name__, kind=kind,
        box_type='rbox' if kind != 'gfl' else 'hbox',
        num_classes=int(head.num_classes), classes=list(classes) if classes else None,
        input=dict(name='image', shape=[1, 3, int(shape[0]), int(shape[1])],
                   channel_order='bgr' if wrapper.swap else 'as loaded (no swap)',
                   normalized_in_graph=True, mean=wrapper.mean.flatten().tolist(),
                   std=wrapper.std.flatten().tolist(), bgr_to_rgb=wrapper.swap),
        outputs={n: None for n in output_names(kind)},
        strides=strides, featmap_sizes=sizes, num_base_priors=wrapper.num_anchors,
        test_cfg=dict(nms_pre=int(test_cfg.get('nms_pre', -1)), score_thr=float(test_cfg.get('score_thr', 0.05)),
                      min_bbox_size=float(test_cfg.get('min_bbox_size', -1 if kind == 'gfl' else 0)),
                      max_per_img=int(test_cfg.get('max_per_img', -1)),
                      nms=dict(type=nms.get('type', 'nms'),
                               iou_threshold=float(nms.get('iou_threshold', nms.get('iou_thr', 0.6))))))
    if kind in ('gfl', 'rotated_gfl'):
        meta.update(reg_max=int(head.reg_max), prior_offset=float(head.prior_offset))
    if kind == 'rotated_gfl':
        coder = head.angle_coder
        meta.update(angle_version=head.angle_version, internal_angle_version=head.internal_version,
                    angle_coder=dict(type=type(coder).__name__, angle_bins=int(head.angle_bins),
                                     theta_min=float(coder.theta_min), period=float(coder.period)))
    if kind == 'rotated_retina':
        gen, coder = head.prior_generator, head.bbox_coder
        meta.update(angle_version=head.angle_version,
                    reg_max=None if head.reg_max is None else int(head.reg_max),
                    delta_ranges=None if head.delta_ranges is None else [list(r) for r in head.delta_ranges],
                    anchors=dict(ratios=list(gen.ratios), scales=list(gen.scales),
                                 center_offset=float(gen.center_offset),
                                 compat=getattr(gen, 'compat', None), angle_version=getattr(gen, 'angle_version', None),
                                 base_wh=[gen.base_wh(i).tolist() for i in range(gen.num_levels)]),
                    bbox_coder=dict(angle_version=coder.angle_version, norm_factor=coder.norm_factor,
                                    edge_swap=bool(coder.edge_swap), proj_xy=bool(coder.proj_xy),
                                    means=list(coder.means), stds=list(coder.stds),
                                    wh_ratio_clip=float(coder.wh_ratio_clip), compat=getattr(coder, 'compat', None)))
    return _plain(meta)


def _legacy_exporter_available() -> bool:
    return 'dynamo' in inspect.signature(torch.onnx.export).parameters


def export_onnx(model: nn.Module, out: str, shape: Sequence[int] = (384, 384), opset: int = 17,
                classes: Optional[Sequence[str]] = None, dynamo: Optional[bool] = None,
                batch: int = 1, dynamic: bool = False) -> dict:
    """Export ``model`` (a built detector, eval mode) to ``out``; return the deploy meta (with
    ``export_seconds`` and ``exporter``). ``dynamo=None``: the TorchScript exporter
    (``dynamo=False``, seconds) where this torch still has it, else the dynamo exporter.
    ``dynamic``: free batch / height / width (TorchScript exporter; see the module docstring)."""
    model = model.eval()
    wrapper = DenseExportWrapper(model).eval()
    x = torch.rand(batch, 3, int(shape[0]), int(shape[1])) * 255
    names = output_names(wrapper.kind)
    use_dynamo = (not _legacy_exporter_available()) if dynamo is None else bool(dynamo)
    if dynamic:
        if use_dynamo:
            raise ValueError('dynamic export uses the TorchScript exporter (dynamo=False); this torch has only '
                             'the dynamo exporter: export with a static shape')
        check_dynamic_rule(wrapper, shape, _strides(model.bbox_head))
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # the TorchScript exporter's deprecation / tracer notes
        kwargs = dict(input_names=['image'], output_names=names, opset_version=opset)
        if use_dynamo:
            torch.onnx.export(wrapper, (x,), out, dynamo=True, external_data=False, **kwargs)
        else:
            axes = None
            if dynamic:
                axes = {'image': {0: 'batch', 2: 'height', 3: 'width'}, **{n: {0: 'batch', 1: 'num_priors'}
                                                                         for n in names}}
            torch.onnx.export(wrapper, (x,), out, dynamo=False, do_constant_folding=True, dynamic_axes=axes,
                              **kwargs)
    seconds = time.perf_counter() - t0
    meta = deploy_meta(model, shape, classes)
    with torch.no_grad():
        outs = wrapper(x)
    meta['outputs'] = {n: [batch] + list(o.shape[1:]) for n, o in zip(names, outs)}
    meta['input']['shape'][0] = batch
    meta['exporter'] = 'dynamo' if use_dynamo else 'torchscript'
    meta['dynamic'] = bool(dynamic)  # True: batch, H, W free; featmap sizes = ceil(input / stride)
    meta['opset'] = opset
    proto = onnx.load(out)
    kv = proto.metadata_props.add()
    kv.key, kv.value = META_KEY, json.dumps(meta)
    onnx.save(proto, out)
    with open(osp.splitext(out)[0] + '.json', 'w') as f:
        json.dump(meta, f, indent=1)
    meta['export_seconds'] = seconds
    return meta


def run_onnxruntime(path: str, image) -> dict:
    """Run the exported graph on CPU; ``{output name: numpy array}``."""
    # local: onnxruntime (slow to import) only when an export is verified; get_flops imports this module
    import onnxruntime as ort

    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    arr = image.detach().cpu().numpy() if isinstance(image, Tensor) else np.asarray(image)
    res = sess.run(None, {'image': arr.astype(np.float32)})
    return {o.name: r for o, r in zip(sess.get_outputs(), res)}


def verify_onnx(model: nn.Module, path: str, image: Optional[Tensor] = None, shape: Sequence[int] = (384, 384),
                seed: int = 0) -> dict:
    """Max abs difference per output between onnxruntime (CPU) and PyTorch on one image."""
    if image is None:
        g = torch.Generator().manual_seed(seed)
        image = torch.rand(1, 3, int(shape[0]), int(shape[1]), generator=g) * 255
    wrapper = DenseExportWrapper(model.eval()).eval()
    with torch.no_grad():
        ref = wrapper(image)
    got = run_onnxruntime(path, image)
    return {n: float((torch.from_numpy(got[n]) - r).abs().max()) for n, r in zip(output_names(wrapper.kind), ref)}


__all__ = ['DenseExportWrapper', 'META_KEY', 'check_dynamic_rule', 'deploy_meta', 'export_onnx', 'head_kind',
           'output_names', 'run_onnxruntime', 'verify_onnx']
