"""GFL head (Generalized Focal Loss, Li et al. NeurIPS 2020, arXiv 2006.04388).

The teacher and baseline student of LD. Differences from mmdet's ``GFLHead``: levels are flattened
once and each loss is computed in one call (no per-level ``multi_apply``); assignment is ATSS on
square priors of side ``octave_base_scale · stride`` centred at the grid points (offset 0, as
mmdet's anchor generator) — equivalent to mmdet's single-anchor GFL; one hook
:meth:`GFLHead._extra_losses` for distillation heads.

Shape legend: ``B`` images, ``A = Σ_l H_l·W_l`` priors over all levels (level-major, row-major
inside a level), ``C`` classes, ``R = reg_max + 1`` bins. Box regression: 4 edge-major blocks of
``R`` logits in the order left, top, right, bottom; distances in units of the level stride.
Boxes are xyxy pixels.

Loss (ld-method.md §1): ``loss_cls`` = QFL (sum over locations / GPU-mean #positives);
``loss_bbox`` = 2.0 · Σ_i w_i·(1 − GIoU_i) / W; ``loss_dfl`` = 0.25 · Σ_i w_i·¼Σ_e DFL_ie / W,
with ``w_i = max_c σ(sg(x_ic))`` and ``W = max(1, GPU-mean Σ_i w_i)`` (clamp at 1 as mmdet 3).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.structures import InstanceData
from torch import Tensor

from rotated_ld.registry import MODELS, TASK_UTILS

from ..distillers import RegionInputs
from ..layers import ConvModule, Integral, Scale
from ..losses.iou_loss import aligned_box_overlaps
from ..task_modules.coders.distance_point_coder import bbox2distance, distance2bbox
from ..utils import empty_instances, filter_scores_and_topk, flatten_levels, multiclass_nms, reduce_mean
from .base_dense_head import BaseDenseHead


class FlatOutputs(NamedTuple):
    """Student outputs flattened over levels (built once per loss call).

    cls_logits (B, A, C): class logits. reg_logits (B, A, 4R): fp32 edge logits.
    priors (A, 4): ``(x, y, stride_w, stride_h)`` pixels. prior_boxes (A, 4): xyxy square priors used
    by ATSS/VLR. strides (A,): stride of each prior. level_ids (A,) long. num_level_priors: list[int].
    featmap_sizes: list of (H_l, W_l).
    """
    cls_logits: Tensor
    reg_logits: Tensor
    priors: Tensor
    prior_boxes: Tensor
    strides: Tensor
    level_ids: Tensor
    num_level_priors: list
    featmap_sizes: list


@dataclass
class Targets:
    """Training targets of a batch; row order of every ``(B, A, ...)`` tensor = :class:`FlatOutputs`.

    labels (B, A) long, background = ``num_classes``; label_weights (B, A) float (0 = ignored or
    outside the padded image); bbox_targets (B, A, 4) xyxy pixels of the assigned GT (0 elsewhere);
    assigned_gt_inds (B, A) long (-1 background, -2 ignored); max_overlaps (B, A) IoU of the prior box
    with its GT; pos_mask (B, A) bool; num_pos_avg: GPU-mean #positives (≥ 1);
    assign_results: per-image :class:`AssignResult` (``thresholds`` (G,) and ``overlaps`` (A_valid, G)
    refer to the valid priors ``valid_mask[i]``); valid_mask (B, A) bool;
    batch_gt_instances / batch_img_metas as given.

    Filled by the core losses (positives in ``pos_mask.reshape(-1).nonzero()`` order):
    pos_inds (P,) indices into ``B·A``; pos_weights (P,) ``w_i = max_c σ(sg(cls))``;
    pos_ious (P,) IoU(decoded prediction, GT) = QFL target; weight_sum: ``W`` (float);
    pos_pred_boxes (P, 4) decoded predictions in stride units; pos_target_boxes (P, 4) GT in stride units.
    extra: free scratch space for subclasses (e.g. regions computed once and reused by several terms).
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
_GIOU = {'type': 'GIoULoss', 'loss_weight': 2.0}
_ATSS = {'type': 'ATSSAssigner', 'topk': 9}
_TEST = {'nms_pre': 1000, 'min_bbox_size': 0, 'score_thr': 0.05, 'nms': {'type': 'nms', 'iou_threshold': 0.6},
         'max_per_img': 100}


@MODELS.register_module()
class GFLHead(BaseDenseHead):
    """GFL head: shared-conv towers, QFL class×quality scores, distribution box regression.

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
        loss_cls / loss_dfl / loss_bbox: loss configs (QFL 1.0, DFL 0.25, GIoU 2.0).
        train_cfg: ``dict(assigner=dict(type='ATSSAssigner', topk=9), allowed_border=-1, pos_weight=-1)``.
        test_cfg: ``dict(nms_pre=1000, min_bbox_size=0, score_thr=0.05, nms=dict(type='nms',
            iou_threshold=0.6), max_per_img=100)``; ``nms.type`` may be any type known to
            :func:`rotated_ld.models.utils.multiclass_nms` (e.g. ``'voting_cluster_diounms'``).

    Example:
        >>> import torch
        >>> head = GFLHead(3, 8, feat_channels=8, stacked_convs=1, norm_cfg=None, strides=(8, 16))
        >>> cls, reg = head([torch.zeros(1, 8, 4, 4), torch.zeros(1, 8, 2, 2)])
        >>> tuple(cls[0].shape), tuple(reg[1].shape)
        ((1, 3, 4, 4), (1, 68, 2, 2))
    """

    def __init__(self, num_classes: int, in_channels: int, feat_channels: int = 256, stacked_convs: int = 4,
                 conv_cfg: Optional[dict] = None, norm_cfg: Optional[dict] = _GN32, reg_max: int = 16,
                 strides: Sequence[int] = (8, 16, 32, 64, 128), octave_base_scale: float = 8.0,
                 prior_offset: float = 0.0, anchor_generator: Optional[dict] = None,
                 loss_cls: dict = _QFL, loss_dfl: dict = _DFL, loss_bbox: dict = _GIOU,
                 bbox_coder: Optional[dict] = None, train_cfg: Optional[dict] = None,
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
        self.num_classes, self.in_channels = num_classes, in_channels
        self.feat_channels, self.stacked_convs = feat_channels, stacked_convs
        self.norm_cfg, self.reg_max = norm_cfg, reg_max
        self.octave_base_scale, self.prior_offset = float(octave_base_scale), float(prior_offset)
        self.num_base_priors = 1
        self.prior_generator = TASK_UTILS.build(dict(type='MlvlPointGenerator', strides=list(strides),
                                                     offset=prior_offset))
        self.strides = list(self.prior_generator.strides)  # [(sw, sh), ...]
        self.train_cfg = dict(train_cfg) if train_cfg is not None else {}
        self.test_cfg = dict(test_cfg) if test_cfg is not None else dict(_TEST)
        self.assigner = TASK_UTILS.build(dict(self.train_cfg.get('assigner', _ATSS)))
        self.loss_cls = MODELS.build(dict(loss_cls))
        self.loss_dfl = MODELS.build(dict(loss_dfl))
        self.loss_bbox = MODELS.build(dict(loss_bbox))
        if bbox_coder is not None and bbox_coder.get('type', 'DistancePointBBoxCoder') != 'DistancePointBBoxCoder':
            raise ValueError(f'GFLHead decodes edge distances; bbox_coder={bbox_coder} is not supported')
        self.integral = Integral(reg_max)  # buffer ``integral.project`` as in mmdet checkpoints
        self._init_layers()
        self._init_weights()

    # ------------------------------------------------------------------ layers
    def _init_layers(self) -> None:
        """Towers + ``gfl_cls`` + ``gfl_reg`` + ``scales`` (mmdet attribute names, checkpoint compatible)."""
        self.relu = nn.ReLU(inplace=True)
        self.cls_convs, self.reg_convs = nn.ModuleList(), nn.ModuleList()
        for i in range(self.stacked_convs):
            ch = self.in_channels if i == 0 else self.feat_channels
            self.cls_convs.append(ConvModule(ch, self.feat_channels, 3, padding=1, norm_cfg=self.norm_cfg))
            self.reg_convs.append(ConvModule(ch, self.feat_channels, 3, padding=1, norm_cfg=self.norm_cfg))
        last = self.feat_channels if self.stacked_convs > 0 else self.in_channels
        self.gfl_cls = nn.Conv2d(last, self.num_classes, 3, padding=1)
        self.gfl_reg = nn.Conv2d(last, 4 * (self.reg_max + 1), 3, padding=1)
        self.scales = nn.ModuleList([Scale(1.0) for _ in self.strides])

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

    # ------------------------------------------------------------------ forward
    def forward(self, feats: Sequence[Tensor]) -> tuple[list[Tensor], list[Tensor]]:
        """Per-level raw outputs.

        Args:
            feats: per level ``(B, in_channels, H_l, W_l)``.

        Returns:
            cls_scores: per level ``(B, C, H_l, W_l)`` logits.
            bbox_preds: per level ``(B, 4 * (reg_max + 1), H_l, W_l)`` fp32 edge logits in stride units.
        """
        if len(feats) != len(self.scales):
            raise ValueError(f'{len(feats)} feature levels for {len(self.scales)} strides')
        cls_scores, bbox_preds = [], []
        for x, scale in zip(feats, self.scales):
            c, r = x, x
            for conv in self.cls_convs:
                c = conv(c)
            for conv in self.reg_convs:
                r = conv(r)
            cls_scores.append(self.gfl_cls(c))
            bbox_preds.append(scale(self.gfl_reg(r)).float())
        return cls_scores, bbox_preds

    # ------------------------------------------------------------------ flattening / priors
    def flatten_outputs(self, cls_scores: Sequence[Tensor], bbox_preds: Sequence[Tensor]) -> tuple[Tensor, Tensor]:
        """Per-level outputs (this head's or a teacher's) → ``(B, A, C)``, ``(B, A, 4R)`` fp32."""
        return flatten_levels(cls_scores), flatten_levels(bbox_preds).float()

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

    def flatten(self, cls_scores: Sequence[Tensor], bbox_preds: Sequence[Tensor]) -> FlatOutputs:
        featmap_sizes = [c.shape[-2:] for c in cls_scores]
        priors, prior_boxes, level_ids, nlp = self.get_priors(featmap_sizes, cls_scores[0].device)
        cls, reg = self.flatten_outputs(cls_scores, bbox_preds)
        return FlatOutputs(cls, reg, priors, prior_boxes, priors[:, 2], level_ids, nlp,
                           [tuple(int(v) for v in s) for s in featmap_sizes])

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
    def get_targets(self, flat: FlatOutputs, batch_gt_instances: list, batch_img_metas: list,
                    batch_gt_instances_ignore: Optional[list] = None) -> Targets:
        """ATSS assignment of every image → :class:`Targets`."""
        num_imgs, num_priors = flat.cls_logits.shape[:2]
        device = flat.priors.device
        featmap_sizes = flat.featmap_sizes
        ignores = batch_gt_instances_ignore or [None] * num_imgs
        labels = torch.full((num_imgs, num_priors), self.num_classes, dtype=torch.long, device=device)
        label_weights = torch.zeros((num_imgs, num_priors), device=device)
        bbox_targets = torch.zeros((num_imgs, num_priors, 4), device=device)
        gt_inds_all = torch.full((num_imgs, num_priors), -1, dtype=torch.long, device=device)
        max_overlaps = torch.zeros((num_imgs, num_priors), device=device)
        valid_all = torch.zeros((num_imgs, num_priors), dtype=torch.bool, device=device)
        results = []
        level_ids = flat.level_ids
        for i in range(num_imgs):
            valid = self._valid_mask(flat.priors, flat.num_level_priors, featmap_sizes, batch_img_metas[i])
            valid_all[i] = valid
            vidx = valid.nonzero().squeeze(1)
            nlp = torch.bincount(level_ids[vidx], minlength=len(flat.num_level_priors)).tolist()
            gt = batch_gt_instances[i]
            ign = ignores[i].bboxes if ignores[i] is not None and 'bboxes' in ignores[i] else None
            res = self.assigner.assign(flat.prior_boxes[vidx], nlp, gt.bboxes.to(device).float(),
                                       gt.labels.to(device), ign)
            results.append(res)
            gi = res.gt_inds
            pos = gi >= 0
            label_weights[i, vidx] = (gi != -2).float()
            gt_inds_all[i, vidx] = gi
            max_overlaps[i, vidx] = res.max_overlaps
            pidx = vidx[pos]
            labels[i, pidx] = res.labels[pos]
            bbox_targets[i, pidx] = gt.bboxes.to(device).float()[gi[pos]]
        pos_mask = labels < self.num_classes
        num_pos_avg = max(reduce_mean(pos_mask.sum().float()).item(), 1.0)
        return Targets(labels, label_weights, bbox_targets, gt_inds_all, max_overlaps, pos_mask, num_pos_avg,
                       valid_all, results, batch_gt_instances, batch_img_metas)

    # ------------------------------------------------------------------ losses
    def loss_by_feat(self, cls_scores: list[Tensor], bbox_preds: list[Tensor], batch_gt_instances: list,
                     batch_img_metas: list, batch_gt_instances_ignore: Optional[list] = None,
                     **extra: Any) -> dict:
        """Losses of a batch.

        Args:
            cls_scores: per level (B, C, H, W). bbox_preds: per level (B, 4R, H, W).
            batch_gt_instances: per image ``InstanceData`` with ``bboxes`` (G, 4) xyxy pixels of the
                network input and ``labels`` (G,).
            batch_img_metas: per image metainfo (``pad_shape`` used to mask padding priors).
            batch_gt_instances_ignore: per image ignored boxes (used when the assigner's
                ``ignore_iof_thr`` > 0) or ``None``.
            **extra: forwarded to :meth:`_extra_losses` (``feats``, ``teacher_outs``, ``teacher_feats``).

        Returns:
            ``loss_cls``, ``loss_bbox``, ``loss_dfl`` (+ whatever ``_extra_losses`` adds).
        """
        flat = self.flatten(cls_scores, bbox_preds)
        targets = self.get_targets(flat, batch_gt_instances, batch_img_metas, batch_gt_instances_ignore)
        losses = self._core_losses(flat, targets)
        losses.update(self._extra_losses(flat, targets, **extra))
        return losses

    def _core_losses(self, flat: FlatOutputs, targets: Targets) -> dict:
        """QFL on all valid locations; GIoU and DFL on positives weighted by quality (one call each)."""
        num_imgs, num_priors, num_classes = flat.cls_logits.shape
        cls = flat.cls_logits.reshape(-1, num_classes)
        reg = flat.reg_logits.reshape(-1, 4 * (self.reg_max + 1))
        labels = targets.labels.reshape(-1)
        pos_inds = targets.pos_mask.reshape(-1).nonzero().squeeze(1)
        score = cls.new_zeros(labels.shape, dtype=torch.float)
        targets.pos_inds = pos_inds
        if pos_inds.numel() > 0:
            prior = flat.priors[pos_inds % num_priors]
            stride_xy = prior[:, 2:].repeat(1, 2)  # (sw, sh, sw, sh)
            centers = prior[:, :2] / prior[:, 2:]
            pos_reg = reg[pos_inds]
            pred_boxes = distance2bbox(centers, self.integral(pos_reg))
            gt_boxes = targets.bbox_targets.reshape(-1, 4)[pos_inds] / stride_xy
            weights = cls[pos_inds].detach().float().sigmoid().max(dim=1).values
            ious = aligned_box_overlaps(pred_boxes.detach(), gt_boxes).clamp(min=0)
            score[pos_inds] = ious
            loss_bbox = self.loss_bbox(pred_boxes, gt_boxes, weight=weights, avg_factor=1.0)
            dist_targets = bbox2distance(centers, gt_boxes, self.reg_max, eps=0.1)
            loss_dfl = self.loss_dfl(pos_reg.reshape(-1, self.reg_max + 1), dist_targets.reshape(-1),
                                     weight=weights[:, None].expand(-1, 4).reshape(-1), avg_factor=4.0)
            weight_sum = weights.sum()
            targets.pos_weights, targets.pos_ious = weights, ious
            targets.pos_pred_boxes, targets.pos_target_boxes = pred_boxes, gt_boxes
        else:
            loss_bbox = reg.sum() * 0
            loss_dfl = reg.sum() * 0
            weight_sum = reg.new_zeros(())
            targets.pos_weights = reg.new_zeros((0,))
            targets.pos_ious = reg.new_zeros((0,))
            targets.pos_pred_boxes = targets.pos_target_boxes = reg.new_zeros((0, 4))
        weight_sum = max(reduce_mean(weight_sum.detach().float()).item(), 1.0)
        targets.weight_sum = weight_sum
        loss_cls = self.loss_cls(cls, (labels, score), weight=targets.label_weights.reshape(-1),
                                 avg_factor=targets.num_pos_avg)
        return dict(loss_cls=loss_cls, loss_bbox=loss_bbox / weight_sum, loss_dfl=loss_dfl / weight_sum)

    def region_inputs(self, flat: FlatOutputs, targets: Targets) -> RegionInputs:
        """What the LD engine needs to select distillation regions (after the core losses).

        GTs are the assigner's: xyxy pixels here, internal-version rboxes for the rotated head
        (``targets.extra['internal_gt_bboxes']``); thresholds are the assigner's ATSS thresholds.
        """
        num_imgs, num_priors = targets.pos_mask.shape
        pos_weight = flat.reg_logits.new_zeros(num_imgs * num_priors, dtype=torch.float32)
        if targets.pos_inds is not None and targets.pos_inds.numel():
            pos_weight[targets.pos_inds] = targets.pos_weights.float()
        gts = targets.extra.get('internal_gt_bboxes')
        if gts is None:
            gts = [g.bboxes for g in targets.batch_gt_instances]
        return RegionInputs(flat.prior_boxes, list(flat.num_level_priors), flat.level_ids, list(gts),
                            targets.pos_mask, pos_weight.reshape(num_imgs, num_priors), targets.valid_mask,
                            [r.thresholds for r in targets.assign_results], targets.label_weights)

    def _extra_losses(self, flat: FlatOutputs, targets: Targets, **extra: Any) -> dict:
        """The one hook distillation heads override; GFL adds nothing.

        Args:
            flat: :class:`FlatOutputs` of the student (``cls_logits`` (B, A, C), ``reg_logits``
                (B, A, 4R) fp32, ``priors`` (A, 4) ``x, y, sw, sh``, ``prior_boxes`` (A, 4),
                ``strides`` (A,), ``level_ids`` (A,), ``num_level_priors``).
            targets: :class:`Targets` after the core losses (labels, label_weights, bbox_targets,
                pos_mask, pos_inds, pos_weights ``w_i``, pos_ious, weight_sum ``W``, num_pos_avg,
                assign_results with ATSS thresholds, gts and metas).
            **extra: ``feats`` (student neck features), and from the KD detector ``teacher_outs``
                (teacher ``(cls_scores, bbox_preds)`` per-level lists; flatten them with
                :meth:`flatten_outputs`) and ``teacher_feats``.

        Returns:
            dict of extra ``loss_*`` terms (empty here).
        """
        return {}

    # ------------------------------------------------------------------ inference
    def predict_by_feat(self, cls_scores: list[Tensor], bbox_preds: list[Tensor],
                        batch_img_metas: Optional[list] = None, cfg: Optional[dict] = None,
                        rescale: bool = False, with_nms: bool = True) -> list[InstanceData]:
        """Decode → ``score_thr`` → per-level top ``nms_pre`` → rescale → NMS → ``max_per_img``.

        Args:
            cls_scores / bbox_preds: per level (B, C, H, W) / (B, 4R, H, W).
            batch_img_metas: per image metainfo (``img_shape`` clips boxes, ``scale_factor`` rescales).
            rescale: divide boxes by ``scale_factor`` (original-image coordinates).

        Returns:
            per image ``InstanceData``: ``bboxes`` (K, 4) xyxy, ``scores`` (K,), ``labels`` (K,).
        """
        cfg = dict(self.test_cfg if cfg is None else cfg)
        featmap_sizes = [c.shape[-2:] for c in cls_scores]
        priors, _, level_ids, nlp = self.get_priors(featmap_sizes, cls_scores[0].device)
        cls_all, reg_all = self.flatten_outputs(cls_scores, bbox_preds)
        cls_all = cls_all.float()  # fp32 scores also under autocast (metrics call .numpy())
        score_thr, nms_pre = cfg.get('score_thr', 0.05), cfg.get('nms_pre', -1)
        batch_img_metas = batch_img_metas or [{} for _ in range(cls_all.size(0))]
        out = []
        for i, meta in enumerate(batch_img_metas):
            boxes_l, scores_l, labels_l = [], [], []
            start = 0
            for n in nlp:
                scores = cls_all[i, start:start + n].sigmoid()
                sc, lb, keep = filter_scores_and_topk(scores, score_thr, nms_pre)
                pri = priors[start:start + n][keep]
                dist = self.integral(reg_all[i, start:start + n][keep]) * pri[:, 2:].repeat(1, 2)
                boxes_l.append(distance2bbox(pri[:, :2], dist, meta.get('img_shape')))
                scores_l.append(sc)
                labels_l.append(lb)
                start += n
            res = self._post_process(torch.cat(boxes_l), torch.cat(scores_l), torch.cat(labels_l), meta, cfg,
                                     rescale, with_nms)
            out.append(res)
        return out

    def _post_process(self, boxes: Tensor, scores: Tensor, labels: Tensor, meta: dict, cfg: dict,
                      rescale: bool, with_nms: bool) -> InstanceData:
        if rescale and meta.get('scale_factor') is not None:
            sf = meta['scale_factor']
            boxes = boxes / boxes.new_tensor([sf[0], sf[1], sf[0], sf[1]])
        if cfg.get('min_bbox_size', -1) >= 0:
            wh = boxes[:, 2:] - boxes[:, :2]
            ok = (wh > cfg['min_bbox_size']).all(1)
            boxes, scores, labels = boxes[ok], scores[ok], labels[ok]
        if with_nms:
            boxes, scores, labels, _ = multiclass_nms(boxes, scores, labels, cfg.get('nms', _TEST['nms']),
                                                      cfg.get('max_per_img', -1))
        if boxes.numel() == 0:
            return empty_instances(4, boxes.device, boxes.dtype)
        res = InstanceData()
        res.bboxes, res.scores, res.labels = boxes, scores, labels
        return res
