"""The one RetinaNet anchor head: rotated RetinaNet with optional distribution deltas (mmrotate /
Rotated-LD / JDet) and, as ``box_type='hbox'``, the LD repository's horizontal RetinaNet whose box
branch is GFL's edge distributions (``RetinaGFLHead`` / ``LDRetinaHead``, :mod:`.anchor_coding`).
The rest of this docstring describes the rotated coding (``box_type='rbox'``, the default); what
differs for ``'hbox'`` is in :mod:`.anchor_coding` and docs/ld.md.

Anchor-based: 9 horizontal anchors per location (``RotatedAnchorGenerator``: octave base scale 4,
3 scales, ratios 1/0.5/2), FPN P3–P7, two towers of ``stacked_convs`` 3×3 convs, 3×3 output
convs ``retina_cls`` / ``retina_reg`` (mmdet/mmrotate attribute names), focal loss, max-IoU
assignment (``MaxIoUAssigner``, rotated IoU or the GT's circumscribed horizontal box), box
deltas ``(dx, dy, dw, dh, da)`` from ``DeltaXYWHAOBBoxCoder``.

Two box representations (docs/method.md §9.1–9.2):

* plain (``reg_max=None``): ``A·5`` delta channels;
* distribution (``reg_max=8``, the references): every delta is a distribution over
  ``R = reg_max + 1`` bins on a fixed support (−2..2 for dx, dy, dw, dh; −5..2 for da), value =
  expectation (:class:`DistributionDelta`); ``A·5·R`` channels, per anchor delta-major blocks of
  ``R`` bins. No DFL: the distributions are shaped by the box loss (and by LD in the student).

Box loss, chosen by config: ``reg_decoded_bbox=False`` → ``loss_bbox`` (e.g. ``L1Loss``) on the
(expected) deltas vs encoded targets; ``True`` → ``loss_bbox`` (``GDLoss`` GWD, ``GDLoss_v1``
KLD) on decoded boxes vs GT boxes. Both normalised by the number of positives
(mmdet: ``Σ_images max(#pos, 1)``).

Shape legend: ``B`` images, ``A`` anchors per location (9), ``N = Σ_l H_l·W_l·A`` priors,
``C`` classes, ``R`` bins. Flattened order: level, then row-major location, then anchor — the
order of ``RotatedAnchorGenerator.grid_priors``. Boxes are ``(cx, cy, w, h, t)`` radians in
``angle_version`` (GTs are regularised into it on the way in).

Test: per level the ``nms_pre`` best priors by max class score, decode, rescale to the original
image, multiclass rotated NMS (IoU 0.1, ``max_per_img`` 2000, score_thr 0.05 — the references).
"""
from __future__ import annotations

import copy
import math
from typing import NamedTuple, Optional, Sequence

import torch
from mmengine.model import BaseModule
from mmengine.structures import InstanceData
from torch import Tensor, nn

from rotated_ld.registry import MODELS, TASK_UTILS

from ..distillers import DistillRegions, RegionInputs, quality_weights
from ..layers import Integral, build_towers, run_towers
from ..losses import dfl, focal_loss, gaussian_loss, iou_loss, l1_loss  # noqa: F401  (register the losses)
from ..task_modules import assigners, coders, prior_generators  # noqa: F401
from ..task_modules.coders.distribution_delta import DEFAULT_RANGES, DistributionDelta
from ..utils import empty_instances, multiclass_nms
from .anchor_coding import build_anchor_coding
from .base_dense_head import BaseDenseHead

DEFAULT_ANCHORS = dict(type='RotatedAnchorGenerator', octave_base_scale=4, scales_per_octave=3,
                       ratios=[1.0, 0.5, 2.0], strides=[8, 16, 32, 64, 128])
DEFAULT_ASSIGNER = dict(type='MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.4, min_pos_iou=0,
                        iou_mode='circumscribed_hbox')
DEFAULT_LOSS_CLS = dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0)
DEFAULT_LOSS_BBOX = dict(type='L1Loss', loss_weight=1.0)
LD_MAIN_WEIGHTS = ('one', 'quality')
LD_SOFTMAX = ('per_distribution', 'joint')


class RetinaTargets(NamedTuple):
    """Training targets of a batch, flattened over levels (see module docstring).

    Attributes:
        labels (Tensor): (B, N) long; ``num_classes`` = background.
        label_weights (Tensor): (B, N) 1 for positives and negatives, 0 for ignored priors.
        bbox_targets (Tensor): (B, N, D) encoded deltas at positives (``'hbox'``: the GT box), 0
            elsewhere; ``D`` = 5 rotated, 4 horizontal.
        gt_boxes (Tensor): (B, N, D) assigned GT box at positives, 0 elsewhere.
        pos_mask (Tensor): (B, N) bool.
        avg_factor (float): ``Σ_images max(#pos, 1)`` (mmdet anchor-head normaliser).
        gt_bboxes (list[Tensor]): per image (G_i, 5) GTs in the head's angle version ((G_i, 4) xyxy).
    """

    labels: Tensor
    label_weights: Tensor
    bbox_targets: Tensor
    gt_boxes: Tensor
    pos_mask: Tensor
    avg_factor: float
    gt_bboxes: list


class FlatRetinaOutputs(NamedTuple):
    """Head outputs flattened over levels: cls (B, N, C), reg (B, N, 5·R | 5 | 4·R), deltas (B, N, 5)
    (``'hbox'``: (B, N, 4) edge distances in stride units), priors (N, 5 | 4), strides (N,) of each prior."""

    cls: Tensor
    reg: Tensor
    deltas: Tensor
    priors: Tensor
    num_level_priors: list
    strides: Optional[Tensor] = None


def _build(cfg, registry=MODELS):
    if cfg is None or not isinstance(cfg, dict):
        return cfg
    return registry.build(copy.deepcopy(cfg))


@MODELS.register_module()
class RotatedRetinaHead(BaseDenseHead, BaseModule):
    """The RetinaNet anchor head: rotated, plain or with distribution deltas (default), or horizontal
    with GFL edge distributions (``box_type='hbox'``).

    Args:
        num_classes (int): number of classes ``C`` (no background channel, sigmoid).
        in_channels (int): FPN channels.
        feat_channels (int): tower channels. Default 256.
        stacked_convs (int): convs per tower. Default 4.
        norm_cfg (dict, optional): tower norm (none in the references).
        angle_version (str | None): ``'oc'`` | ``'le90'`` | ``'le135'``; must equal the coder's
            (``None`` for ``'hbox'``).
        anchor_generator (dict): ``RotatedAnchorGenerator`` config.
        bbox_coder (dict): ``DeltaXYWHAOBBoxCoder`` config (its ``angle_version`` defaults to
            the head's).
        reg_max (int | None): ``None`` plain deltas; else bins − 1 of each delta distribution
            (8 in the references; ``'hbox'``: of each edge distribution, 16).
        delta_ranges (Sequence): supports of the 5 distributions (``DEFAULT_RANGES``).
        reg_decoded_bbox (bool): box loss on decoded boxes (GWD/KLD) instead of deltas (L1).
        loss_cls (dict): default ``FocalLoss`` (γ 2, α 0.25).
        loss_bbox (dict): ``L1Loss`` (default) | ``GDLoss`` | ``GDLoss_v1``; ``'hbox'``: ``GIoULoss``.
        loss_dfl (dict, optional): ``'hbox'`` only: DFL on the edge distributions of the positives
            (weight 1 per edge, mean over positives × 4 edges); none in the LD repository's head.
        box_type (str, optional): ``'rbox'`` (class default) or ``'hbox'`` (:mod:`.anchor_coding`).
        train_cfg (dict): ``assigner`` (``MaxIoUAssigner`` config), ``allowed_border`` (−1 only),
            ``pos_weight`` (−1 → 1).
        test_cfg (dict): ``nms_pre``, ``score_thr``, ``nms=dict(iou_threshold)``,
            ``max_per_img``, ``min_bbox_size``.
        distiller (dict, optional): the LD plug-in (an ``LDDistiller`` config; set by
            :class:`RotatedLDRetinaHead` / ``LDRetinaHead``); ``None`` = a plain head.
        ld_main_weight (str): Main-region weight of positives for the LD plug-in: ``'one'``
            (Rotated-LD / JDet) or ``'quality'`` (``max_c σ(cls)``, the LD repository's ``LDRetinaHead``).
        ld_softmax (str): ``'per_distribution'`` (one softmax per edge / delta, the LD paper) or
            ``'joint'`` (one softmax over all ``4·R`` edge bins of an anchor, as the LD repository's
            ``LDRetinaHead`` passes the whole row to its KL).

    Example:
        >>> head = RotatedRetinaHead(3, 8, feat_channels=8, stacked_convs=1, reg_max=8,
        ...                          anchor_generator=dict(type='RotatedAnchorGenerator', strides=[8]))
        >>> cls, reg = head((torch.rand(1, 8, 4, 4),))
        >>> cls[0].shape, reg[0].shape
        (torch.Size([1, 27, 4, 4]), torch.Size([1, 405, 4, 4]))
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 feat_channels: int = 256,
                 stacked_convs: int = 4,
                 norm_cfg: Optional[dict] = None,
                 angle_version: Optional[str] = 'oc',
                 anchor_generator: dict = DEFAULT_ANCHORS,
                 bbox_coder: Optional[dict] = None,
                 reg_max: Optional[int] = 8,
                 delta_ranges: Sequence[Sequence[float]] = DEFAULT_RANGES,
                 reg_decoded_bbox: bool = False,
                 loss_cls: Optional[dict] = None,
                 loss_bbox: Optional[dict] = None,
                 loss_dfl: Optional[dict] = None,
                 box_type: Optional[str] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 distiller: Optional[dict] = None,
                 ld_main_weight: str = 'one',
                 ld_softmax: str = 'per_distribution',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.feat_channels = feat_channels
        self.stacked_convs = stacked_convs
        self.norm_cfg = norm_cfg
        self.angle_version = angle_version
        self.prior_generator = TASK_UTILS.build(copy.deepcopy(anchor_generator))
        self.strides = list(self.prior_generator.strides)
        self.num_base_priors = self.prior_generator.num_base_priors[0]
        self.box_type = box_type or self.default_box_type
        self.coding = build_anchor_coding(self.box_type, angle_version=angle_version, bbox_coder=bbox_coder,
                                          prior_generator=self.prior_generator, reg_decoded_bbox=reg_decoded_bbox)
        self.bbox_coder = getattr(self.coding, 'bbox_coder', None)
        self.reg_max = reg_max
        hbox = self.box_type == 'hbox'
        self.delta_dist = DistributionDelta(reg_max, delta_ranges) if reg_max is not None and not hbox else None
        # GFL's edge bins (buffer ``integral.project`` as in the LD repository's checkpoints)
        self.integral = Integral(self.coding.reg_channels(reg_max) // 4 - 1) if hbox else None
        self.delta_ranges = self.delta_dist.ranges if self.delta_dist is not None else None
        self.distill_compat_attrs = ('delta_ranges',)
        self.reg_decoded_bbox = reg_decoded_bbox
        self.loss_cls = _build(loss_cls if loss_cls is not None else DEFAULT_LOSS_CLS)
        self.loss_bbox = _build(loss_bbox if loss_bbox is not None else DEFAULT_LOSS_BBOX)
        if loss_dfl is not None and not hbox:
            raise ValueError("loss_dfl applies to edge distributions (box_type='hbox'); rotated deltas have no DFL")
        self.loss_dfl = _build(loss_dfl)
        for name, value, valid in (('ld_main_weight', ld_main_weight, LD_MAIN_WEIGHTS),
                                   ('ld_softmax', ld_softmax, LD_SOFTMAX)):
            if value not in valid:
                raise ValueError(f'{name}={value!r}; expected one of {valid}')
        self.ld_main_weight, self.ld_softmax = ld_main_weight, ld_softmax
        self.train_cfg = dict(train_cfg or {})
        self.test_cfg = dict(self.coding.default_test_cfg, **(test_cfg or {}))
        self.assigner = TASK_UTILS.build(copy.deepcopy(self.train_cfg.get('assigner', DEFAULT_ASSIGNER)))
        if self.train_cfg.get('allowed_border', -1) >= 0:
            raise ValueError('allowed_border >= 0 is not supported (all references use -1)')
        self._init_layers()
        if distiller and reg_max is None:
            raise ValueError(f'{type(self).__name__} distils delta distributions: set reg_max (8 as the references)')
        # the LD plug-in (its VLR overlaps follow the GT box type)
        self.distiller = MODELS.build(dict(distiller, box_type=self.box_type)) if distiller else None

    #: coding of the class when ``box_type`` is not given (``RetinaGFLHead`` / ``LDRetinaHead``: ``'hbox'``)
    default_box_type = 'rbox'

    # ------------------------------------------------------------------ layers
    @property
    def reg_channels(self) -> int:
        """Box channels per anchor: ``5·(reg_max + 1)`` or 5 (``'hbox'``: ``4·(reg_max + 1)``)."""
        return self.coding.reg_channels(self.reg_max)

    def _init_layers(self) -> None:
        # attribute names as mmdet/mmrotate RetinaHead (checkpoint keys)
        self.cls_convs, self.reg_convs = build_towers(self.in_channels, self.feat_channels, self.stacked_convs,
                                                      self.norm_cfg)
        ch = self.feat_channels if self.stacked_convs > 0 else self.in_channels
        self.retina_cls = nn.Conv2d(ch, self.num_base_priors * self.num_classes, 3, padding=1)
        self.retina_reg = nn.Conv2d(ch, self.num_base_priors * self.reg_channels, 3, padding=1)
        # mmdet RetinaHead init: N(0, 0.01) everywhere, cls bias = -log((1 - 0.01) / 0.01)
        for m in list(self.cls_convs.modules()) + list(self.reg_convs.modules()) + [self.retina_cls,
                                                                                     self.retina_reg]:
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, std=0.01)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        nn.init.constant_(self.retina_cls.bias, -math.log((1 - 0.01) / 0.01))

    def forward(self, feats: Sequence[Tensor]) -> tuple[list[Tensor], list[Tensor]]:
        """Per level: cls ``(B, A·C, H, W)`` logits, reg ``(B, A·5·R, H, W)`` bin logits
        (``(B, A·5, H, W)`` deltas when plain)."""
        cls_scores, bbox_preds = [], []
        for x in feats:
            c, r = run_towers(x, self.cls_convs, self.reg_convs)
            cls_scores.append(self.retina_cls(c))
            bbox_preds.append(self.retina_reg(r).float())
        return cls_scores, bbox_preds

    # ------------------------------------------------------------------ flattening
    def concat_levels(self, cls_scores: Sequence[Tensor], bbox_preds: Sequence[Tensor]) -> tuple[Tensor, Tensor]:
        """Per-level maps → cls ``(B, N, C)`` and reg ``(B, N, 5·R | 5)`` (level, location, anchor)."""
        B = cls_scores[0].shape[0]
        cls = torch.cat([c.permute(0, 2, 3, 1).reshape(B, -1, self.num_classes) for c in cls_scores], 1)
        reg = torch.cat([r.permute(0, 2, 3, 1).reshape(B, -1, self.reg_channels) for r in bbox_preds], 1)
        return cls, reg

    def reg_to_deltas(self, reg: Tensor) -> Tensor:
        """``(..., 5·R)`` bin logits → ``(..., 5)`` expected deltas; plain deltas unchanged;
        ``'hbox'``: ``(..., 4·R)`` → ``(..., 4)`` expected edge distances (stride units)."""
        if self.integral is not None:
            return self.integral(reg)
        return self.delta_dist(reg) if self.delta_dist is not None else reg.float()

    def priors(self, featmap_sizes: Sequence, device, dtype=torch.float32) -> tuple[Tensor, list[int]]:
        """All priors ``(N, 5)`` and the number per level."""
        mlvl = self.prior_generator.grid_priors(featmap_sizes, dtype=dtype, device=device)
        return torch.cat(mlvl), [p.shape[0] for p in mlvl]

    def build_flat_outputs(self, cls_scores, bbox_preds) -> FlatRetinaOutputs:
        """Per-level outputs → :class:`FlatRetinaOutputs` (concatenated logits, expected deltas, anchors)."""
        cls, reg = self.concat_levels(cls_scores, bbox_preds)
        priors, nlp = self.priors([c.shape[-2:] for c in cls_scores], cls.device)
        strides = torch.repeat_interleave(torch.tensor(self.strides, dtype=priors.dtype, device=priors.device),
                                          torch.as_tensor(nlp, device=priors.device))
        return FlatRetinaOutputs(cls, reg, self.reg_to_deltas(reg), priors, nlp, strides)

    # ------------------------------------------------------------------ targets
    def get_targets(self, priors: Tensor, batch_gt_instances: Sequence[InstanceData],
                    batch_gt_instances_ignore: Optional[Sequence] = None) -> RetinaTargets:
        """Max-IoU assignment and delta encoding for every image (priors shared by all images).
        ``priors``: (N, 5) rbox anchors, or (N, 4) xyxy for ``'hbox'``."""
        labels, label_weights, targets, gt_boxes, gts_out = [], [], [], [], []
        num_pos_total = 0.0
        N = priors.shape[0]
        pos_w = self.train_cfg.get('pos_weight', -1)
        for i, gt in enumerate(batch_gt_instances):
            boxes = self.coding.prepare_gts(gt.bboxes).to(priors.device)
            gt_labels = gt.labels.to(priors.device).long()
            ign = None
            if batch_gt_instances_ignore is not None and batch_gt_instances_ignore[i] is not None:
                ign = batch_gt_instances_ignore[i].bboxes.to(priors.device).float()
            res = self.assigner.assign(priors, boxes, gt_labels, ign)
            pos = res.gt_inds > 0
            neg = res.gt_inds == 0
            lab = torch.full((N,), self.num_classes, dtype=torch.long, device=priors.device)
            lab[pos] = res.labels[pos]
            lw = (pos | neg).float()
            if pos_w > 0:
                lw[pos] = float(pos_w)
            D = self.coding.box_dim
            assigned = priors.new_zeros((N, D))
            tgt = priors.new_zeros((N, D))
            if pos.any():
                assigned[pos] = boxes[res.gt_inds[pos] - 1]
                tgt[pos] = self.coding.encode(priors[pos], assigned[pos]).to(tgt.dtype)
            labels.append(lab)
            label_weights.append(lw)
            targets.append(tgt)
            gt_boxes.append(assigned)
            gts_out.append(boxes)
            num_pos_total += max(int(pos.sum()), 1)
        labels = torch.stack(labels)
        return RetinaTargets(labels, torch.stack(label_weights), torch.stack(targets), torch.stack(gt_boxes),
                             (labels >= 0) & (labels < self.num_classes), num_pos_total, gts_out)

    # ------------------------------------------------------------------ losses
    def loss_by_feat(self, cls_scores: list[Tensor], bbox_preds: list[Tensor],
                     batch_gt_instances: list[InstanceData], batch_img_metas: list[dict],
                     batch_gt_instances_ignore: Optional[list] = None, **extra) -> dict:
        """Focal loss + box loss (+ the hook's terms). ``loss(feats, samples, **extra)`` of
        :class:`BaseDenseHead` calls this with ``feats=`` and the KD detector's ``teacher_outs=``,
        ``teacher_feats=``; they reach :meth:`_extra_losses`.

        Returns:
            dict: ``loss_cls``, ``loss_bbox`` (+ ``_extra_losses``), ``num_pos`` (log only).
        """
        flat = self.build_flat_outputs(cls_scores, bbox_preds)
        targets = self.get_targets(flat.priors, batch_gt_instances, batch_gt_instances_ignore)
        losses = self._core_losses(flat, targets)
        losses.update(self._extra_losses(flat, targets, **extra))
        return losses

    def _core_losses(self, flat: FlatRetinaOutputs, t: RetinaTargets) -> dict:
        C = self.num_classes
        loss_cls = self.loss_cls(flat.cls.reshape(-1, C), t.labels.reshape(-1), t.label_weights.reshape(-1),
                                 avg_factor=t.avg_factor)
        pos = t.pos_mask
        losses = dict(loss_cls=loss_cls)
        if not bool(pos.any()):
            losses['loss_bbox'] = flat.reg.sum() * 0
            if self.loss_dfl is not None:
                losses['loss_dfl'] = flat.reg.sum() * 0
        else:
            deltas = flat.deltas[pos]
            B = pos.shape[0]
            priors = flat.priors[None].expand(B, -1, -1)[pos]
            strides = flat.strides[None].expand(B, -1)[pos]
            losses['loss_bbox'] = self.coding.box_loss(self.loss_bbox, self.reg_decoded_bbox, priors, deltas,
                                                       t.bbox_targets[pos], t.gt_boxes[pos], strides, t.avg_factor)
            if self.loss_dfl is not None:
                R = self.reg_max + 1
                edges = self.coding.edge_targets(priors, t.gt_boxes[pos], strides, self.reg_max)
                losses['loss_dfl'] = self.loss_dfl(flat.reg[pos].reshape(-1, R), edges.reshape(-1),
                                                   weight=torch.ones_like(edges.reshape(-1)),
                                                   avg_factor=4.0 * t.avg_factor)
        losses['num_pos'] = flat.cls.new_tensor(float(pos.sum()))
        return losses

    # ------------------------------------------------------------------ LD plug-in
    def region_inputs(self, flat: FlatRetinaOutputs, targets: RetinaTargets) -> RegionInputs:
        """What the LD engine needs: anchors (N, 5) (``'hbox'``: (N, 4) xyxy), GTs as assigned,
        positives (weight 1, or ``max_c σ(cls)`` with ``ld_main_weight='quality'``), label weights;
        no padding mask and no assigner thresholds (max-IoU assigner: the VLR computes ATSS's)."""
        nlp = list(flat.num_level_priors)
        level_ids = torch.repeat_interleave(torch.arange(len(nlp), device=flat.priors.device),
                                            torch.as_tensor(nlp, device=flat.priors.device))
        pos = targets.pos_mask
        if self.ld_main_weight == 'quality':
            B, N, C = flat.cls.shape
            pos_weight = quality_weights(flat.cls.reshape(B * N, C), pos.reshape(-1)).reshape(B, N)
        else:
            pos_weight = pos.float()
        return RegionInputs(flat.priors, nlp, level_ids, list(targets.gt_bboxes), pos, pos_weight,
                            label_weights=targets.label_weights)

    def distill_regions(self, flat: FlatRetinaOutputs, targets: RetinaTargets) -> DistillRegions:
        """LD (``main_*``) and KD (``kd_*``) regions of a batch, ``P = B·N`` rows."""
        if self.distiller is None:
            raise ValueError(f'{type(self).__name__} has no distiller: it is not an LD head')
        return self.distiller.regions(self.region_inputs(flat, targets))

    def _extra_losses(self, flat: FlatRetinaOutputs, targets: RetinaTargets, teacher_outs=None, **extra) -> dict:
        """The LD plug-in's terms (none without a ``distiller``): ``loss_ld`` and ``loss_kd`` against the
        teacher head's outputs ``(cls_list, reg_list)``, plus ``ld_da`` (logged, not optimised): the part
        of ``loss_ld`` that comes from the angle delta."""
        if self.distiller is None:
            return {}
        if teacher_outs is None:
            raise ValueError(f'{type(self).__name__}.loss needs teacher_outs (train it inside KDSingleStageDetector)')
        want = (self.num_base_priors * self.num_classes, self.num_base_priors * self.reg_channels)
        got = (teacher_outs[0][0].shape[1], teacher_outs[1][0].shape[1])
        if got != want:  # before flattening, which would fail with a bare reshape error
            raise ValueError(f'teacher outputs have {got[0]} class / {got[1]} box channels per location, the '
                             f'student {want[0]} / {want[1]}: teacher and student must share anchors, reg_max '
                             'and classes')
        t_cls, t_reg = self.concat_levels(*teacher_outs[:2])
        if t_reg.shape != flat.reg.shape or t_cls.shape != flat.cls.shape:
            raise ValueError(f'teacher outputs cls {tuple(t_cls.shape)} / reg {tuple(t_reg.shape)} differ from '
                             f'the student\'s {tuple(flat.cls.shape)} / {tuple(flat.reg.shape)}: teacher and '
                             'student must share anchors, reg_max and classes')
        regions = self.distill_regions(flat, targets)
        B, N, C = flat.cls.shape
        # 'mean' divides by the number of region rows (JDet's element mean), not by Σ weight
        avg = regions.main_mask.sum().float() if self.distiller.ld_normalize == 'mean' else None
        # 'joint': one distribution over the whole row (the LD repository's LDRetinaHead)
        bins = self.reg_channels if self.ld_softmax == 'joint' else self.reg_max + 1
        return self.distiller(student_reg=flat.reg.reshape(B * N, -1), teacher_reg=t_reg.reshape(B * N, -1),
                              num_bins=bins, regions=regions,
                              student_cls=flat.cls.reshape(B * N, C), teacher_cls=t_cls.reshape(B * N, C),
                              avg_factor=avg)

    # ------------------------------------------------------------------ inference
    def predict_by_feat(self, cls_scores: list[Tensor], bbox_preds: list[Tensor],
                        batch_img_metas: list[dict], rescale: bool = True) -> list[InstanceData]:
        """Decode, select and NMS each image; boxes in original-image coordinates if ``rescale``.

        Returns:
            list[InstanceData]: ``bboxes`` (K, 5) in ``angle_version`` (``'hbox'``: (K, 4) xyxy),
            ``scores`` (K,), ``labels`` (K,); K ≤ ``max_per_img``.
        """
        cfg = self.test_cfg
        cls, reg = self.concat_levels(cls_scores, bbox_preds)
        priors, nlp = self.priors([c.shape[-2:] for c in cls_scores], cls.device)
        nms_cfg = {**self.coding.default_test_cfg['nms'], **(cfg.get('nms') or {})}
        results = []
        for i, meta in enumerate(batch_img_metas):
            boxes_l, scores_l = [], []
            start = 0
            for n, stride in zip(nlp, self.strides):  # per-level top-k by max class score (mmdet/mmrotate nms_pre)
                sc = cls[i, start:start + n].float().sigmoid()
                pri, rg = priors[start:start + n], reg[i, start:start + n]
                k = cfg.get('nms_pre', -1)
                if 0 < k < sc.shape[0]:
                    keep = sc.max(1).values.topk(k).indices
                    sc, pri, rg = sc[keep], pri[keep], rg[keep]
                boxes_l.append(self.coding.decode(pri, self.reg_to_deltas(rg), pri.new_full((pri.shape[0],), stride),
                                                  meta))
                scores_l.append(sc)
                start += n
            boxes, scores = torch.cat(boxes_l), torch.cat(scores_l)
            if cfg.get('min_bbox_size', 0) > 0:
                ok = (self.coding.wh(boxes) > cfg['min_bbox_size']).all(1)
                boxes, scores = boxes[ok], scores[ok]
            if rescale and 'scale_factor' in meta:
                boxes = self.coding.rescale(boxes, meta['scale_factor'])
            if boxes.numel() == 0:
                results.append(empty_instances(self.coding.box_dim, cls.device))
                continue
            # every (box, class) pair over score_thr, then the configured NMS (models/utils/nms.py:
            # 'nms_rotated' by default, as mmrotate's multiclass_nms_rotated; or e.g. 'rotated_voting_nms';
            # 'hbox': 'nms')
            rows, labels = (scores > cfg.get('score_thr', 0.05)).nonzero(as_tuple=True)
            det, det_scores, det_labels, _ = multiclass_nms(
                boxes[rows], scores[rows, labels], labels, nms_cfg, cfg.get('max_per_img', 2000))
            res = InstanceData()
            res.bboxes, res.scores, res.labels = det, det_scores, det_labels
            results.append(res)
        return results
