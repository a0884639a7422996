"""The one distribution head of the GFL family: GFL, LD, rotated GFL and rotated LD are configurations.

GFL (Generalized Focal Loss, Li et al. NeurIPS 2020, arXiv 2006.04388) is the teacher and baseline
student of LD. This class is composed of

* a **box-geometry strategy** (``box_type``, :mod:`.box_geometry`): ``'hbox'`` — 4 edge
  distributions, xyxy boxes (GFL); ``'rbox'`` — 4 edge distributions in the box's rotated frame plus
  the angle from an angle coder (``gfl_angle`` branch, circular bins; the project's angle-aware
  rotated GFL, docs/rotated_ld.md);
* an optional **quality branch** (``quality_branch``, :class:`~.dgqp.DGQP`): GFLv2's
  distribution-guided quality predictor; the class outputs become the log-odds of ``σ(cls) · q``
  (``GFLv2Head`` / ``LDGFLv2Head``);
* a **quality strategy** (``quality_mode``, :mod:`.quality_mode`): ``'qfl'`` — the class
  score is the IoU quality (GFL); ``'centerness'`` — focal classification + a centerness branch
  (the LD repository's ATSS / FCOS heads with a distribution box branch; priors: ATSS square
  anchors, or FCOS points with ``prior_offset=0.5`` and ``FCOSAssigner``);
* an optional **LD plug-in** (``distiller``, the LD engine :class:`~rotated_ld.models.distillers.LDDistiller`,
  plus ``angle_distiller`` for the angle bins): with it the head is an LD student and adds the
  distillation terms to its losses (teacher outputs from :class:`KDSingleStageDetector`).

``LDHead``, ``RotatedGFLHead``, ``RotatedLDHead``, ``GFLv2Head`` and ``LDGFLv2Head`` are subclasses that
only set these defaults (one class each, so configs and checkpoints keep their names).

Differences from mmdet's ``GFLHead``: levels are flattened once and each loss is computed in one
call (no per-level ``multi_apply``); assignment is ATSS on square priors of side
``octave_base_scale · stride`` centred at the grid points (offset 0, as mmdet's anchor generator) —
equivalent to mmdet's single-anchor GFL.

Shape legend: ``B`` images, ``A = Σ_l H_l·W_l`` priors over all levels (level-major, row-major
inside a level), ``C`` classes, ``R = reg_max + 1`` bins, ``K`` angle bins. Box regression: 4
edge-major blocks of ``R`` logits in the order left, top, right, bottom; distances in units of the
level stride. Boxes: xyxy pixels (``'hbox'``) or ``(cx, cy, w, h, θ)`` radians (``'rbox'``; GTs
are converted to the internal angle version on the way in, predictions to ``angle_version`` out).

Loss (docs/ld.md): ``loss_cls`` = QFL (sum over locations / GPU-mean #positives) with the (rotated)
IoU of the decoded box as quality target; ``loss_bbox`` = 2.0 · Σ_i w_i·(1 − (G)IoU_i) / W;
``loss_dfl`` = 0.25 · Σ_i w_i·¼Σ_e DFL_ie / W; rotated: ``loss_angle`` = circular DFL (0.25) / W;
with ``w_i = max_c σ(sg(x_ic))`` and ``W = max(1, GPU-mean Σ_i w_i)`` (clamp at 1 as mmdet 3).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.structures import InstanceData
from torch import Tensor

from rotated_ld.registry import MODELS, TASK_UTILS

from ..distillers import DistillRegions, RegionInputs, gibox_mask, imitation_mask
from ..layers import Integral, Scale, build_towers, run_towers
from ..utils import empty_instances, filter_scores_and_topk, flatten_levels, multiclass_nms, reduce_mean
from .base_dense_head import BaseDenseHead
from .box_geometry import build_geometry
from .quality_mode import build_quality


class FlatGFLOutputs(NamedTuple):
    """Outputs flattened over levels (built once per loss call).

    cls_logits (B, A, C): class logits. reg_logits (B, A, 4R): fp32 edge logits.
    priors (A, 4): ``(x, y, stride_w, stride_h)`` pixels. prior_boxes (A, 4): xyxy square priors used
    by ATSS/VLR. strides (A,): stride of each prior. level_ids (A,) long. num_level_priors: list[int].
    featmap_sizes: list of (H_l, W_l). angle_logits (B, A, K) fp32 (``'rbox'`` only, else ``None``).
    centerness (B, A) logits (``quality_mode='centerness'`` only, else ``None``).
    """
    cls_logits: Tensor
    reg_logits: Tensor
    priors: Tensor
    prior_boxes: Tensor
    strides: Tensor
    level_ids: Tensor
    num_level_priors: list
    featmap_sizes: list
    angle_logits: Optional[Tensor] = None
    centerness: Optional[Tensor] = None


@dataclass
class Targets:
    """Training targets of a batch; row order of every ``(B, A, ...)`` tensor = :class:`FlatGFLOutputs`.

    labels (B, A) long, background = ``num_classes``; label_weights (B, A) float (0 = ignored or
    outside the padded image); bbox_targets (B, A, 4 | 5) pixels of the assigned GT (0 elsewhere;
    rboxes in the internal angle version);
    assigned_gt_inds (B, A) long (-1 background, -2 ignored); max_overlaps (B, A) IoU of the prior box
    with its GT; pos_mask (B, A) bool; num_pos_avg: GPU-mean #positives (≥ 1);
    assign_results: per-image :class:`AssignResult` (``thresholds`` (G,) and ``overlaps`` (A_valid, G)
    refer to the valid priors ``valid_mask[i]``); valid_mask (B, A) bool;
    batch_gt_instances / batch_img_metas as given.

    Filled by the core losses (positives in ``pos_mask.reshape(-1).nonzero()`` order):
    pos_inds (P,) indices into ``B·A``; pos_weights (P,) ``w_i = max_c σ(sg(cls))``;
    pos_ious (P,) IoU(decoded prediction, GT) = QFL target; weight_sum: ``W`` (float);
    pos_pred_boxes (P, 4 | 5) decoded predictions in stride units; pos_target_boxes (P, 4 | 5) GT in
    stride units. extra: ``internal_gt_bboxes`` (per image, the GTs as assigned: xyxy, or rboxes in
    the internal angle version).
    """
    labels: Tensor
    label_weights: Tensor
    bbox_targets: Tensor
    assigned_gt_inds: Tensor
    max_overlaps: Tensor
    pos_mask: Tensor
    num_pos_avg: float
    valid_mask: Tensor
    assign_results: list
    batch_gt_instances: list
    batch_img_metas: list
    pos_inds: Optional[Tensor] = None
    pos_weights: Optional[Tensor] = None
    pos_ious: Optional[Tensor] = None
    weight_sum: float = 1.0
    pos_pred_boxes: Optional[Tensor] = None
    pos_target_boxes: Optional[Tensor] = None
    extra: dict = field(default_factory=dict)


_GN32 = {'type': 'GN', 'num_groups': 32, 'requires_grad': True}
_QFL = {'type': 'QualityFocalLoss', 'use_sigmoid': True, 'beta': 2.0, 'loss_weight': 1.0}
_DFL = {'type': 'DistributionFocalLoss', 'loss_weight': 0.25}
_CDFL = {'type': 'CircularDFLoss', 'loss_weight': 0.25}
_CE = {'type': 'CrossEntropyLoss', 'use_sigmoid': True, 'loss_weight': 1.0}


@MODELS.register_module()
class GFLHead(BaseDenseHead, BaseModule):
    """The distribution head: shared-conv towers, QFL class×quality scores, distribution boxes.

    Args:
        num_classes: ``C`` (sigmoid classifier, no background channel).
        in_channels: channels of the neck features.
        feat_channels: tower width (256; the CPU demo uses 128).
        stacked_convs: convs per tower (4; the CPU demo uses 2).
        norm_cfg: tower norm (GroupNorm 32); ``None`` for none.
        reg_max: ``n``; ``n + 1`` bins per edge.
        strides: FPN strides (8, 16, 32, 64, 128).
        octave_base_scale: side of the square ATSS prior in strides (8).
        prior_offset: grid offset of the priors (0 as mmdet GFL; see ``MlvlPointGenerator``).
        anchor_generator: mmdet-style ``dict(type='AnchorGenerator', octave_base_scale=8, strides=...)``
            accepted for config compatibility (sets ``strides`` / ``octave_base_scale``).
        box_type: ``'hbox'`` (default) or ``'rbox'`` (see :mod:`.box_geometry`).
        angle_version, angle_coder: ``'rbox'`` only: ``'oc'`` | ``'le90'`` | ``'le135'`` and the angle
            coder (``CircularAngleCoder`` 36 bins | ``PlainAngleCoder``).
        bbox_coder: ``DistancePointBBoxCoder`` (hbox) | ``DistanceAnglePointCoder`` (rbox).
        loss_cls / loss_dfl / loss_bbox: QFL 1.0, DFL 0.25, GIoU 2.0 (hbox) | ``RotatedIoULoss`` 2.0;
            ``loss_dfl=None`` trains the distribution through the box loss only (LD repo ATSS / FCOS).
        quality_mode: ``'qfl'`` (GFL) or ``'centerness'`` (ATSS / FCOS; needs a label loss such as
            ``FocalLoss``), see :mod:`.quality_mode`.
        loss_centerness: the centerness loss (``CrossEntropyLoss`` sigmoid, 1.0) of ``'centerness'``.
        loss_angle: ``'rbox'`` with a distribution coder: circular DFL (``CircularDFLoss``, 0.25).
        distiller: LD plug-in (``LDDistiller`` config) or ``None`` (a plain GFL head).
        quality_branch: ``dict(type='DGQP', reg_topk=4, reg_channels=64, add_mean=True)`` (GFLv2, module
            ``reg_conf``; ``'hbox'`` only) or ``None`` (GFL: class logits as they are).
        train_cfg: ``dict(assigner=dict(type='ATSSAssigner' | 'RotatedATSSAssigner', topk=9))``.
        test_cfg: ``dict(nms_pre, min_bbox_size, score_thr, nms=dict(type, iou_threshold), max_per_img)``
            (defaults: hbox ``nms`` 0.6 / 1000 / 100; rbox ``nms_rotated`` 0.1 / 2000 / 2000); ``nms.type``
            may be any type known to :func:`rotated_ld.models.utils.multiclass_nms`.

    Example:
        >>> import torch
        >>> head = GFLHead(3, 8, feat_channels=8, stacked_convs=1, norm_cfg=None, strides=(8, 16))
        >>> cls, reg = head([torch.zeros(1, 8, 4, 4), torch.zeros(1, 8, 2, 2)])
        >>> tuple(cls[0].shape), tuple(reg[1].shape)
        ((1, 3, 4, 4), (1, 68, 2, 2))
    """

    #: geometry of the class when ``box_type`` is not given (the rotated subclasses set ``'rbox'``)
    default_box_type = 'hbox'

    def __init__(self, num_classes: int, in_channels: int, feat_channels: int = 256, stacked_convs: int = 4,
                 conv_cfg: Optional[dict] = None, norm_cfg: Optional[dict] = _GN32, reg_max: int = 16,
                 strides: Sequence[int] = (8, 16, 32, 64, 128), octave_base_scale: float = 8.0,
                 prior_offset: float = 0.0, anchor_generator: Optional[dict] = None,
                 box_type: Optional[str] = None, angle_version: Optional[str] = None,
                 angle_coder: Optional[dict] = None, bbox_coder: Optional[dict] = None,
                 loss_cls: dict = _QFL, loss_dfl: dict = _DFL, loss_bbox: Optional[dict] = None,
                 loss_angle: Optional[dict] = _CDFL, distiller: Optional[dict] = None,
                 quality_branch: Optional[dict] = None, quality_mode: str = 'qfl',
                 loss_centerness: Optional[dict] = None, train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None, init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if conv_cfg is not None:
            raise ValueError(f'conv_cfg={conv_cfg}: only plain convs are supported in the head')
        if anchor_generator is not None:  # mmdet config compatibility
            strides = anchor_generator.get('strides', strides)
            octave_base_scale = anchor_generator.get('octave_base_scale', octave_base_scale)
            if list(anchor_generator.get('ratios', [1.0])) != [1.0] or anchor_generator.get(
                    'scales_per_octave', 1) != 1:
                raise ValueError('GFLHead uses one square prior per location (ratios=[1.0], '
                                 f'scales_per_octave=1); got {anchor_generator}')
        self.geometry = build_geometry(box_type or self.default_box_type, angle_version=angle_version,
                                       angle_coder=angle_coder, bbox_coder=bbox_coder)
        self.box_type = self.geometry.box_type
        if self.box_type == 'rbox':
            self._set_angle_attrs()
        self.num_classes, self.in_channels = num_classes, in_channels
        self.feat_channels, self.stacked_convs = feat_channels, stacked_convs
        self.norm_cfg, self.reg_max = norm_cfg, reg_max
        self.octave_base_scale, self.prior_offset = float(octave_base_scale), float(prior_offset)
        self.num_base_priors = 1
        self.prior_generator = TASK_UTILS.build(dict(type='MlvlPointGenerator', strides=list(strides),
                                                     offset=prior_offset))
        self.strides = list(self.prior_generator.strides)  # [(sw, sh), ...]
        self.train_cfg = dict(train_cfg) if train_cfg is not None else {}
        self.test_cfg = dict(test_cfg) if test_cfg is not None else dict(self.geometry.default_test_cfg)
        self.assigner = TASK_UTILS.build(dict(self.train_cfg.get('assigner', self.geometry.default_assigner)))
        self.quality = build_quality(quality_mode, loss_cls.get('type', ''), self.box_type)
        self.quality_mode = self.quality.name
        self.loss_cls = MODELS.build(dict(loss_cls))
        self.loss_dfl = MODELS.build(dict(loss_dfl)) if loss_dfl is not None else None
        self.loss_centerness = (MODELS.build(dict(loss_centerness or _CE)) if self.quality.channels else None)
        self.loss_bbox = MODELS.build(dict(loss_bbox or self.geometry.default_loss_bbox))
        self.integral = Integral(reg_max)  # buffer ``integral.project`` as in mmdet checkpoints
        self._init_layers()
        self._init_weights()
        if quality_branch is not None and self.box_type != 'hbox':
            raise ValueError(f'quality_branch={quality_branch}: the DGQP branch is defined on horizontal '
                             f'boxes (box_type="hbox"); got {self.box_type!r}')
        if quality_branch is not None and self.quality_mode != 'qfl':
            raise ValueError(f'quality_branch={quality_branch}: the DGQP quality multiplies the QFL joint score '
                             f"(quality_mode='qfl'); got quality_mode={self.quality_mode!r}")
        # GFLv2's quality predictor (None = GFL v1); name and layout of the GFocalV2 checkpoints
        self.reg_conf = (MODELS.build(dict(quality_branch, reg_max=reg_max))
                         if quality_branch is not None else None)
        self.loss_angle = (MODELS.build(dict(loss_angle)) if self.box_type == 'rbox' and loss_angle is not None
                           and self.angle_coder.is_distribution else None)
        # the LD plug-in (the subclasses LDHead / RotatedLDHead set it; None = a plain GFL head)
        self.distiller = MODELS.build(dict(distiller, box_type=self.box_type)) if distiller else None
        if self.distiller is not None and self.distiller.imitation_method and self.box_type != 'hbox':
            raise ValueError('feature-imitation masks are defined on horizontal GTs (LDHead); '
                             f'got imitation_method={self.distiller.imitation_method!r} on rotated boxes')
        self.angle_distiller = None
        self.angle_square_weight = False
        self.gibox_cfg = dict(iou_threshold=0.3, topk=10)

    def _set_angle_attrs(self) -> None:
        """The rotated geometry's angle attributes on the head (checked teacher vs student)."""
        g = self.geometry
        self.angle_version, self.internal_version = g.angle_version, g.internal_version
        self.angle_coder, self.rbox_coder = g.angle_coder, g.rbox_coder
        self.angle_coder_type = type(g.angle_coder).__name__
        self.angle_bins = int(getattr(g.angle_coder, 'angle_bins', 1))
        theta_min = g.angle_coder.theta_min
        self.angle_range = (round(theta_min, 6), round(theta_min + g.angle_coder.period, 6))
        #: checked by ``KDSingleStageDetector`` between teacher and student (plus GFL's list)
        self.distill_compat_attrs = ('angle_bins', 'angle_version', 'angle_range', 'edge_order',
                                     'angle_coder_type')
        self.edge_order = 'ltrb'

    # ------------------------------------------------------------------ layers
    def _init_layers(self) -> None:
        """Towers + ``gfl_cls`` + ``gfl_reg`` + ``scales`` (mmdet attribute names, checkpoint compatible);
        rotated: + ``gfl_angle`` (3×3 conv on the regression tower → ``K`` or 1 channels)."""
        self.relu = nn.ReLU(inplace=True)
        self.cls_convs, self.reg_convs = build_towers(self.in_channels, self.feat_channels, self.stacked_convs,
                                                      self.norm_cfg)
        last = self.feat_channels if self.stacked_convs > 0 else self.in_channels
        self.gfl_cls = nn.Conv2d(last, self.num_classes, 3, padding=1)
        self.gfl_reg = nn.Conv2d(last, 4 * (self.reg_max + 1), 3, padding=1)
        self.scales = nn.ModuleList([Scale(1.0) for _ in self.strides])
        if self.geometry.angle_channels:
            self.gfl_angle = nn.Conv2d(last, self.geometry.angle_channels, 3, padding=1)
        if self.quality.channels:  # on the regression tower (FCOS centerness_on_reg, ATSS)
            self.gfl_centerness = nn.Conv2d(last, self.quality.channels, 3, padding=1)

    def _init_weights(self) -> None:
        """mmdet GFL init: normal(0, 0.01) convs, class bias ``−log((1 − 0.01) / 0.01)``."""
        for m in (*self.cls_convs, *self.reg_convs):
            nn.init.normal_(m.conv.weight, 0, 0.01)
            if m.conv.bias is not None:
                nn.init.zeros_(m.conv.bias)
        nn.init.normal_(self.gfl_cls.weight, 0, 0.01)
        nn.init.constant_(self.gfl_cls.bias, -4.59511985013459)  # prior prob 0.01
        nn.init.normal_(self.gfl_reg.weight, 0, 0.01)
        nn.init.zeros_(self.gfl_reg.bias)
        for name in ('gfl_angle', 'gfl_centerness'):
            if hasattr(self, name):
                nn.init.normal_(getattr(self, name).weight, 0, 0.01)
                nn.init.zeros_(getattr(self, name).bias)

    # ------------------------------------------------------------------ forward
    def forward(self, feats: Sequence[Tensor]) -> tuple[list[Tensor], ...]:
        """Per-level raw outputs.

        Args:
            feats: per level ``(B, in_channels, H_l, W_l)``.

        Returns:
            cls_scores: per level ``(B, C, H_l, W_l)`` logits.
            bbox_preds: per level ``(B, 4 * (reg_max + 1), H_l, W_l)`` fp32 edge logits in stride units.
            angle_preds (``'rbox'`` only): per level ``(B, K, H_l, W_l)`` fp32 angle logits (``K = 1``:
            raw angle).
            centernesses (``quality_mode='centerness'`` only): per level ``(B, 1, H_l, W_l)`` logits.
        """
        if len(feats) != len(self.scales):
            raise ValueError(f'{len(feats)} feature levels for {len(self.scales)} strides')
        third = self.gfl_angle if self.geometry.angle_channels else getattr(self, 'gfl_centerness', None)
        cls_scores, bbox_preds, third_preds = [], [], []
        for x, scale in zip(feats, self.scales):
            c, r = run_towers(x, self.cls_convs, self.reg_convs)
            cls, reg = self.gfl_cls(c), scale(self.gfl_reg(r)).float()
            if self.reg_conf is not None:  # GFLv2: log-odds of σ(cls) · DGQP quality
                cls = self.reg_conf.joint_logits(cls, reg)
            cls_scores.append(cls)
            bbox_preds.append(reg)
            if third is not None:
                third_preds.append(third(r).float())
        return (cls_scores, bbox_preds, third_preds) if third is not None else (cls_scores, bbox_preds)

    # ------------------------------------------------------------------ flattening / priors
    def concat_levels(self, cls_scores: Sequence[Tensor], bbox_preds: Sequence[Tensor],
                        angle_preds: Optional[Sequence[Tensor]] = None) -> tuple[Tensor, ...]:
        """Per-level outputs (this head's or a teacher's) → ``(B, A, C)``, ``(B, A, 4R)`` fp32
        [, ``(B, A, K)`` fp32 when ``angle_preds`` are given]."""
        cls, reg = flatten_levels(cls_scores), flatten_levels(bbox_preds).float()
        if angle_preds is None:
            return cls, reg
        return cls, reg, flatten_levels(angle_preds).float()

    def get_priors(self, featmap_sizes: Sequence[Sequence[int]], device, dtype=torch.float32
                   ) -> tuple[Tensor, Tensor, Tensor, list[int]]:
        """``(priors (A, 4) x, y, sw, sh; prior_boxes (A, 4) xyxy; level_ids (A,); num_level_priors)``."""
        mlvl = self.prior_generator.grid_priors(featmap_sizes, dtype=dtype, device=device)
        priors = torch.cat(mlvl, 0)
        num_level_priors = [p.size(0) for p in mlvl]
        level_ids = torch.cat([torch.full((n,), i, dtype=torch.long, device=device)
                               for i, n in enumerate(num_level_priors)])
        half = priors[:, 2:] * self.octave_base_scale / 2
        prior_boxes = torch.cat([priors[:, :2] - half, priors[:, :2] + half], 1)
        return priors, prior_boxes, level_ids, num_level_priors

    def build_flat_outputs(self, cls_scores: Sequence[Tensor], bbox_preds: Sequence[Tensor],
                angle_preds: Optional[Sequence[Tensor]] = None,
                centernesses: Optional[Sequence[Tensor]] = None) -> FlatGFLOutputs:
        """Per-level outputs → :class:`FlatGFLOutputs` (logits concatenated over levels + the priors,
        level ids and feature-map sizes the assigner and the distiller need)."""
        featmap_sizes = [c.shape[-2:] for c in cls_scores]
        priors, prior_boxes, level_ids, nlp = self.get_priors(featmap_sizes, cls_scores[0].device)
        cls, reg = self.concat_levels(cls_scores, bbox_preds)
        ang = flatten_levels(angle_preds).float() if angle_preds is not None else None
        ctr = flatten_levels(centernesses).float()[..., 0] if centernesses is not None else None
        return FlatGFLOutputs(cls, reg, priors, prior_boxes, priors[:, 2], level_ids, nlp,
                           [tuple(int(v) for v in s) for s in featmap_sizes], ang, ctr)

    # ------------------------------------------------------------------ targets
    def _valid_mask(self, priors: Tensor, num_level_priors: list, featmap_sizes, meta: dict) -> Tensor:
        """Priors whose cell lies inside this image's ``pad_shape`` (mmdet ``valid_flags``)."""
        pad = meta.get('pad_shape', meta.get('batch_input_shape', meta.get('img_shape')))
        if pad is None:
            return torch.ones(priors.size(0), dtype=torch.bool, device=priors.device)
        h, w = float(pad[0]), float(pad[1])
        masks = []
        for (fh, fw), (sw, sh) in zip(featmap_sizes, self.strides):
            vh, vw = min(int(-(-h // sh)), int(fh)), min(int(-(-w // sw)), int(fw))
            m = torch.zeros(int(fh), int(fw), dtype=torch.bool, device=priors.device)
            m[:vh, :vw] = True
            masks.append(m.reshape(-1))
        return torch.cat(masks)

    @torch.no_grad()
    def get_targets(self, flat: FlatGFLOutputs, batch_gt_instances: list, batch_img_metas: list,
                    batch_gt_instances_ignore: Optional[list] = None) -> Targets:
        """ATSS (or rotated ATSS) assignment of every image → :class:`Targets`."""
        num_imgs, num_priors = flat.cls_logits.shape[:2]
        device = flat.priors.device
        ignores = batch_gt_instances_ignore or [None] * num_imgs
        labels = torch.full((num_imgs, num_priors), self.num_classes, dtype=torch.long, device=device)
        label_weights = torch.zeros((num_imgs, num_priors), device=device)
        bbox_targets = torch.zeros((num_imgs, num_priors, self.geometry.box_dim), device=device)
        gt_inds_all = torch.full((num_imgs, num_priors), -1, dtype=torch.long, device=device)
        max_overlaps = torch.zeros((num_imgs, num_priors), device=device)
        valid_all = torch.zeros((num_imgs, num_priors), dtype=torch.bool, device=device)
        results, gts_as_assigned = [], []
        for i in range(num_imgs):
            valid = self._valid_mask(flat.priors, flat.num_level_priors, flat.featmap_sizes, batch_img_metas[i])
            valid_all[i] = valid
            vidx = valid.nonzero().squeeze(1)
            nlp = torch.bincount(flat.level_ids[vidx], minlength=len(flat.num_level_priors)).tolist()
            gt = batch_gt_instances[i]
            gt_boxes = self.geometry.prepare_gts(gt.bboxes.to(device))
            gts_as_assigned.append(gt_boxes)
            ign = ignores[i].bboxes if ignores[i] is not None and 'bboxes' in ignores[i] else None
            res = self.assigner.assign(flat.prior_boxes[vidx], nlp, gt_boxes, gt.labels.to(device), ign)
            results.append(res)
            gi = res.gt_inds
            pos = gi >= 0
            label_weights[i, vidx] = (gi != -2).float()
            gt_inds_all[i, vidx] = gi
            max_overlaps[i, vidx] = res.max_overlaps.float()
            pidx = vidx[pos]
            labels[i, pidx] = res.labels[pos]
            bbox_targets[i, pidx] = gt_boxes[gi[pos]]
        pos_mask = labels < self.num_classes
        num_pos_avg = max(reduce_mean(pos_mask.sum().float()).item(), 1.0)
        targets = Targets(labels, label_weights, bbox_targets, gt_inds_all, max_overlaps, pos_mask, num_pos_avg,
                          valid_all, results, batch_gt_instances, batch_img_metas)
        targets.extra['internal_gt_bboxes'] = gts_as_assigned
        return targets

    # ------------------------------------------------------------------ losses
    def loss_by_feat(self, cls_scores: list[Tensor], bbox_preds: list[Tensor], *args: Any,
                     **extra: Any) -> dict:
        """Losses of a batch: ``loss_by_feat(cls_scores, bbox_preds[, angle_preds], batch_gt_instances,
        batch_img_metas, batch_gt_instances_ignore=None, **extra)``.

        Args:
            cls_scores / bbox_preds / angle_preds: per level (B, C, H, W) / (B, 4R, H, W) / (B, K, H, W)
                (``angle_preds`` for ``'rbox'`` only; with ``quality_mode='centerness'`` the third
                output is ``centernesses`` (B, 1, H, W) instead).
            batch_gt_instances: per image ``bboxes`` (G, 4) xyxy or (G, 5) rboxes (``angle_version``)
                in pixels of the network input, ``labels`` (G,).
            batch_img_metas: per image metainfo (``pad_shape`` masks padding priors).
            batch_gt_instances_ignore: per image ignored boxes (used when the assigner's
                ``ignore_iof_thr`` > 0) or ``None``.
            **extra: ``feats`` (student neck features) and, from the KD detector, ``teacher_outs``,
                ``teacher_feats`` (used by the LD plug-in).

        Returns:
            ``loss_cls``, ``loss_bbox``, ``loss_dfl`` (unless ``loss_dfl=None``) (+ ``loss_angle``,
            ``loss_centerness``) + the distillation terms.
        """
        args = list(args)
        angle_preds = centernesses = None
        if self.geometry.angle_channels:
            angle_preds = args.pop(0) if args else extra.pop('angle_preds')
        elif self.quality.channels:
            centernesses = args.pop(0) if args else extra.pop('centernesses')
        batch_gt_instances = args.pop(0) if args else extra.pop('batch_gt_instances')
        batch_img_metas = args.pop(0) if args else extra.pop('batch_img_metas')
        ignores = args.pop(0) if args else extra.pop('batch_gt_instances_ignore', None)
        flat = self.build_flat_outputs(cls_scores, bbox_preds, angle_preds, centernesses)
        targets = self.get_targets(flat, batch_gt_instances, batch_img_metas, ignores)
        losses = self._core_losses(flat, targets)
        losses.update(self._extra_losses(flat, targets, **extra))
        return losses

    def decode_stride_units(self, centers: Tensor, reg_logits: Tensor,
                            angle_logits: Optional[Tensor] = None) -> Tensor:
        """Decoded boxes in stride units: (N, 4) xyxy, or (N, 5) rboxes in the internal version (not
        regularised).

        Args:
            centers (Tensor): (N, 2) prior centres divided by their stride.
            reg_logits (Tensor): (N, 4R). angle_logits (Tensor): (N, K) (``'rbox'`` only).
        """
        return self.geometry.decode(centers, self.integral(reg_logits), angle_logits)

    def _core_losses(self, flat: FlatGFLOutputs, targets: Targets) -> dict:
        """QFL (or focal) on all valid locations; (rotated) IoU, edge DFL (and angle DFL) on positives,
        weighted by quality (or centerness targets, then also the centerness loss); one call each."""
        geo = self.geometry
        num_imgs, num_priors, num_classes = flat.cls_logits.shape
        cls = flat.cls_logits.reshape(-1, num_classes)
        reg = flat.reg_logits.reshape(-1, 4 * (self.reg_max + 1))
        ang = flat.angle_logits.reshape(-1, flat.angle_logits.shape[-1]) if flat.angle_logits is not None else None
        labels = targets.labels.reshape(-1)
        pos_inds = targets.pos_mask.reshape(-1).nonzero().squeeze(1)
        targets.pos_inds = pos_inds
        loss_angle = None
        ctr = flat.centerness.reshape(-1) if flat.centerness is not None else None
        loss_ctr = ctr.sum() * 0 if ctr is not None else None
        if pos_inds.numel() > 0:
            prior = flat.priors[pos_inds % num_priors]
            centers = prior[:, :2] / prior[:, 2:]
            pos_reg = reg[pos_inds]
            pos_ang = ang[pos_inds] if ang is not None else None
            pred_boxes = self.decode_stride_units(centers, pos_reg, pos_ang)
            gt_boxes = geo.to_stride_units(targets.bbox_targets.reshape(-1, geo.box_dim)[pos_inds], prior[:, 2:])
            weights = cls[pos_inds].detach().float().sigmoid().max(dim=1).values
            ious = geo.aligned_iou(pred_boxes.detach(), gt_boxes)
            box_w = self.quality.box_weights(weights, centers, gt_boxes)
            loss_bbox = self.loss_bbox(pred_boxes, gt_boxes, weight=box_w, avg_factor=1.0)
            if self.loss_dfl is not None:
                dist_targets = geo.edge_targets(centers, gt_boxes, self.reg_max)
                loss_dfl = self.loss_dfl(pos_reg.reshape(-1, self.reg_max + 1), dist_targets.reshape(-1),
                                         weight=box_w[:, None].expand(-1, 4).reshape(-1), avg_factor=4.0)
            if ctr is not None:
                loss_ctr = self.loss_centerness(ctr[pos_inds], box_w, avg_factor=targets.num_pos_avg)
            if self.loss_angle is not None:
                loss_angle = self.loss_angle(pos_ang, self.angle_coder.encode(gt_boxes[:, 4]),
                                             weight=weights, avg_factor=1.0)
            weight_sum = box_w.sum()
            targets.pos_weights, targets.pos_ious = weights, ious
            targets.pos_pred_boxes, targets.pos_target_boxes = pred_boxes, gt_boxes
        else:
            loss_bbox = reg.sum() * 0 + (ang.sum() * 0 if ang is not None else 0)
            loss_dfl = reg.sum() * 0
            if self.loss_angle is not None:
                loss_angle = ang.sum() * 0
            weight_sum = reg.new_zeros(())
            targets.pos_weights = reg.new_zeros((0,))
            targets.pos_ious = reg.new_zeros((0,))
            targets.pos_pred_boxes = targets.pos_target_boxes = reg.new_zeros((0, geo.box_dim))
        weight_sum = max(reduce_mean(weight_sum.detach().float()).item(), 1.0)
        targets.weight_sum = weight_sum
        loss_cls = self.quality.classification_loss(self.loss_cls, cls, labels, targets.label_weights.reshape(-1),
                                                    pos_inds, targets.pos_ious, targets.num_pos_avg)
        losses = dict(loss_cls=loss_cls, loss_bbox=loss_bbox / weight_sum)
        if self.loss_dfl is not None:
            losses['loss_dfl'] = loss_dfl / weight_sum
        if loss_angle is not None:
            losses['loss_angle'] = loss_angle / weight_sum
        if loss_ctr is not None:
            losses['loss_centerness'] = loss_ctr
        return losses

    # ------------------------------------------------------------------ LD plug-in
    def region_inputs(self, flat: FlatGFLOutputs, targets: Targets) -> RegionInputs:
        """What the LD engine needs to select distillation regions (after the core losses): square
        priors, the GTs as assigned, positives with quality weights, the assigner's ATSS thresholds."""
        num_imgs, num_priors = targets.pos_mask.shape
        pos_weight = flat.reg_logits.new_zeros(num_imgs * num_priors, dtype=torch.float32)
        if targets.pos_inds is not None and targets.pos_inds.numel():
            pos_weight[targets.pos_inds] = targets.pos_weights.float()
        return RegionInputs(flat.prior_boxes, list(flat.num_level_priors), flat.level_ids,
                            list(targets.extra['internal_gt_bboxes']), targets.pos_mask,
                            pos_weight.reshape(num_imgs, num_priors), targets.valid_mask,
                            [r.thresholds for r in targets.assign_results], targets.label_weights,
                            quality=flat.cls_logits.detach().float().sigmoid().max(-1).values)

    def distill_regions(self, flat: FlatGFLOutputs, targets: Targets,
                        teacher_outs: Optional[Sequence[Sequence[Tensor]]] = None) -> DistillRegions:
        """Main, VLR, KD and imitation regions of a batch (``P = B·A`` rows; :class:`DistillRegions`).

        One region set serves the edge and the angle distillers (the VLR is selected by the first of
        them with a VLR term). ``teacher_outs`` is needed only by the ``gibox`` imitation (it depends on
        predictions); without it that mask is ``None``.
        """
        if self.distiller is None:
            raise ValueError(f'{type(self).__name__} has no distiller: it is not an LD head')
        owner = next((d for d in (self.distiller, self.angle_distiller) if d is not None and d.needs_vlr),
                     self.distiller)
        regions = owner.regions(self.region_inputs(flat, targets))
        method = self.distiller.imitation_method
        if method is not None and (method != 'gibox' or teacher_outs is not None):
            B, A, C = flat.cls_logits.shape
            s_cls, s_reg = flat.cls_logits.reshape(B * A, C), flat.reg_logits.reshape(B * A, -1)
            t_cls, t_reg = ((t.reshape(B * A, -1) for t in self.concat_levels(*teacher_outs[:2]))
                            if teacher_outs is not None else (s_cls, s_reg))
            regions.im_mask = self._imitation_mask(flat, targets, s_cls, t_cls, s_reg, t_reg)
            # decouple background: every valid location outside the mask, padding left out
            regions.im_bg_mask = targets.valid_mask.reshape(-1) & ~regions.im_mask
        return regions

    def _extra_losses(self, flat: FlatGFLOutputs, targets: Targets, *,
                      teacher_outs: Optional[Sequence[Sequence[Tensor]]] = None,
                      teacher_feats: Optional[Sequence[Tensor]] = None,
                      feats: Optional[Sequence[Tensor]] = None, **extra: Any) -> dict:
        """The LD plug-in's terms (none without a ``distiller``): edge LD / VLR LD / KD / imitation, and
        angle LD (``loss_ld_angle``, ``loss_ld_vlr_angle``) with an ``angle_distiller``.

        Args:
            flat, targets: student outputs and targets after the core losses.
            teacher_outs: the teacher head's per-level ``(cls_scores, bbox_preds[, angle_preds])``.
            teacher_feats, feats: teacher / student neck outputs (feature imitation only).
        """
        d = self.distiller
        if d is None:
            return {}
        name = type(self).__name__
        if teacher_outs is None:
            raise ValueError(f'{name} needs teacher_outs: train it inside KDSingleStageDetector')
        rotated = bool(self.geometry.angle_channels)
        # a horizontal teacher gives (cls_scores, bbox_preds[, centernesses]): a GFL or an ATSS/FCOS-GFL
        # teacher; its centerness is not distilled (as the reference LD heads)
        if len(teacher_outs) not in ((3,) if rotated else (2, 3)):
            raise ValueError(f'teacher_outs has {len(teacher_outs)} entries; a {self.box_type} GFL teacher '
                             'gives ' + ('3 (cls_scores, bbox_preds, angle_preds)' if rotated else
                                         '2 (cls_scores, bbox_preds) or 3 (+ centernesses)'))
        B, A, C = flat.cls_logits.shape
        P = B * A
        t_flat = self.concat_levels(*teacher_outs[:3 if rotated else 2])
        regions = self.distill_regions(flat, targets, teacher_outs)
        s_f = t_f = None
        if d.needs_feats:
            if feats is None or teacher_feats is None:
                raise ValueError('feature imitation needs the student and teacher neck features')
            s_f, t_f = (flatten_levels(f).reshape(P, -1) for f in (feats, teacher_feats))
        avg = vlr_avg = None
        if d.ld_normalize == 'mean':  # GPU-averaged Σ weights: independent of images per GPU
            avg = targets.weight_sum
            if regions.vlr_weight is not None:
                vlr_avg = max(reduce_mean(regions.vlr_weight.sum().detach()).item(), 1.0)
        losses = d(student_reg=flat.reg_logits.reshape(P, -1), teacher_reg=t_flat[1].reshape(P, -1),
                   num_bins=self.reg_max + 1, regions=regions, student_cls=flat.cls_logits.reshape(P, C),
                   teacher_cls=t_flat[0].reshape(P, -1), student_feats=s_f, teacher_feats=t_f,
                   avg_factor=avg, vlr_avg_factor=vlr_avg)
        if self.angle_distiller is not None:
            if self.angle_square_weight:  # the angle of a near-square box is ill-defined
                box = targets.bbox_targets.reshape(P, 5)
                ratio = box[:, 3] / box[:, 2].clamp(min=1e-6)
                regions = replace(regions, main_weight=regions.main_weight * (1 - ratio.clamp(0, 1)))
            K = flat.angle_logits.shape[-1]
            losses.update(self.angle_distiller(student_reg=flat.angle_logits.reshape(P, K),
                                               teacher_reg=t_flat[2].reshape(P, -1), num_bins=K,
                                               regions=regions))
        return losses

    @torch.no_grad()
    def _imitation_mask(self, flat: FlatGFLOutputs, targets: Targets, s_cls: Tensor, t_cls: Tensor,
                        s_reg: Tensor, t_reg: Tensor) -> Tensor:
        """(B·A,) bool imitation rows (GT-defined masks per image, or GI boxes per image × level)."""
        B, A = targets.pos_mask.shape
        valid = targets.valid_mask.reshape(-1)
        if self.distiller.imitation_method == 'gibox':
            centers = (flat.priors[:, :2] / flat.priors[:, 2:]).repeat(B, 1)  # stride units
            boxes = [self.geometry.decode(centers, self.integral(r)) for r in (s_reg, t_reg)]
            group = torch.arange(B, device=valid.device).repeat_interleave(A) \
                * len(flat.num_level_priors) + flat.level_ids.repeat(B)
            group = torch.where(valid, group, group.new_full((), -1))
            sel = valid.nonzero().squeeze(1)
            mask = torch.zeros_like(valid)
            mask[sel] = gibox_mask(s_cls[sel], t_cls[sel], boxes[0][sel], boxes[1][sel],
                                   group[sel], **self.gibox_cfg)
            return mask
        mask = torch.zeros_like(targets.pos_mask)
        for i in range(B):
            vidx = targets.valid_mask[i].nonzero().squeeze(1)
            gts = targets.batch_gt_instances[i].bboxes.to(mask.device).float()
            iou = targets.assign_results[i].overlaps
            mask[i, vidx] = imitation_mask(self.distiller.imitation_method, flat.priors[vidx, :2],
                                           gts, iou)
        return mask.reshape(-1)

    # ------------------------------------------------------------------ inference
    def predict_by_feat(self, cls_scores: list[Tensor], bbox_preds: list[Tensor],
                        angle_preds: Optional[list[Tensor]] = None,
                        batch_img_metas: Optional[list] = None, cfg: Optional[dict] = None,
                        rescale: bool = False, with_nms: bool = True) -> list[InstanceData]:
        """Decode → ``score_thr`` → per-level top ``nms_pre`` → rescale → NMS → ``max_per_img``.

        Args:
            cls_scores / bbox_preds / angle_preds: per level (B, C, H, W) / (B, 4R, H, W) / (B, K, H, W)
                (``angle_preds`` for ``'rbox'`` only; with ``quality_mode='centerness'`` this slot
                holds the centernesses (B, 1, H, W), which multiply the class scores; a horizontal
                GFL head also takes ``batch_img_metas`` as its third positional argument).
            batch_img_metas: per image metainfo (``img_shape`` clips horizontal boxes, ``scale_factor``
                (w, h) rescales).
            rescale: map boxes to original-image coordinates.

        Returns:
            per image ``InstanceData``: ``bboxes`` (K, 4) xyxy or (K, 5) rboxes in ``angle_version``,
            ``scores`` (K,), ``labels`` (K,).
        """
        centernesses = None
        if self.quality.channels:
            centernesses, angle_preds = angle_preds, None
        elif not self.geometry.angle_channels and angle_preds is not None and batch_img_metas is None:
            batch_img_metas, angle_preds = angle_preds, None  # predict_by_feat(cls, reg, metas)
        cfg = dict(self.test_cfg if cfg is None else cfg)
        featmap_sizes = [c.shape[-2:] for c in cls_scores]
        priors, _, _, nlp = self.get_priors(featmap_sizes, cls_scores[0].device)
        cls_all, reg_all = self.concat_levels(cls_scores, bbox_preds)
        ang_all = flatten_levels(angle_preds).float() if angle_preds is not None else None
        cls_all = cls_all.float()  # fp32 scores also under autocast (metrics call .numpy())
        ctr_all = flatten_levels(centernesses).float()[..., 0] if centernesses is not None else None
        score_thr, nms_pre = cfg.get('score_thr', 0.05), cfg.get('nms_pre', -1)
        batch_img_metas = batch_img_metas or [{} for _ in range(cls_all.size(0))]
        out = []
        for i, meta in enumerate(batch_img_metas):
            boxes_l, scores_l, labels_l = [], [], []
            start = 0
            for n in nlp:
                prob = self.quality.scores(cls_all[i, start:start + n].sigmoid(),
                                           ctr_all[i, start:start + n] if ctr_all is not None else None)
                sc, lb, keep = filter_scores_and_topk(prob, score_thr, nms_pre)
                pri = priors[start:start + n][keep]
                ang = ang_all[i, start:start + n][keep] if ang_all is not None else None
                boxes_l.append(self.geometry.decode_pixels(pri, self.integral(reg_all[i, start:start + n][keep]),
                                                           ang, meta))
                scores_l.append(sc)
                labels_l.append(lb)
                start += n
            out.append(self._post_process(torch.cat(boxes_l), torch.cat(scores_l), torch.cat(labels_l), meta,
                                          cfg, rescale, with_nms))
        return out

    def _post_process(self, boxes: Tensor, scores: Tensor, labels: Tensor, meta: dict, cfg: dict,
                      rescale: bool, with_nms: bool) -> InstanceData:
        geo = self.geometry
        if rescale and meta.get('scale_factor') is not None:
            boxes = geo.rescale(boxes, meta['scale_factor'])
        if cfg.get('min_bbox_size', -1) >= 0:
            ok = (geo.wh(boxes) > cfg['min_bbox_size']).all(1)
            boxes, scores, labels = boxes[ok], scores[ok], labels[ok]
        if with_nms:
            boxes, scores, labels, _ = multiclass_nms(boxes, scores, labels,
                                                      cfg.get('nms', geo.default_test_cfg['nms']),
                                                      cfg.get('max_per_img', -1))
        if boxes.numel() == 0:
            return empty_instances(geo.box_dim, boxes.device, boxes.dtype)
        res = InstanceData()
        res.bboxes, res.scores, res.labels = geo.finalize(boxes), scores, labels
        return res
