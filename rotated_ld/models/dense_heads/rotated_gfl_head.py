"""Rotated GFL head: edge distributions in the box frame + the angle as a distribution on a circle.

The project's angle-aware rotated head (issue 8, ld-method.md §9.3, docs/rotated_ld.md). It is
:class:`GFLHead` with one more branch and rotated geometry; the skeleton (towers, flattening,
priors, the ``_extra_losses`` hook for distillation) is GFL's.

* **Outputs per level**: ``cls (B, C, H, W)`` QFL logits; ``reg (B, 4(n+1), H, W)`` edge logits
  (l, t, r, b in the *box's rotated frame*, stride units, ``n = reg_max = 16``);
  ``angle (B, K, H, W)`` angle logits (``K = angle_bins``, 36) — or ``(B, 1, H, W)`` with the
  plain-scalar baseline (``angle_coder=dict(type='PlainAngleCoder')``).
* **Angle versions**: one internal convention per version — the version itself for ``le90`` /
  ``le135`` (period π, ``w ≥ h``), ``le90`` for ``oc`` (whose period π/2 comes with a w/h swap).
  GTs are converted to the internal version on the way in, predictions to the configured
  ``angle_version`` on the way out (``regularize_rboxes``).
* **Bins**: centres ``θ_k = θ_min + (k + ½)·π/K``; circular DFL target (last and first bins are
  neighbours); circular-mean decoding (see :mod:`..task_modules.coders.angle_coder`).
* **Assignment**: rotated ATSS (top-9 nearest centres per level, rotated IoU of the square prior
  ``8·stride`` with the GT, mean + std, centre strictly inside the rotated GT).
* **Losses**: ``loss_cls`` QFL with the rotated IoU of the decoded box as quality target;
  ``loss_bbox`` rotated IoU loss on decoded boxes (2.0); ``loss_dfl`` on the 4 edges (0.25, ¼Σ);
  ``loss_angle`` circular DFL (0.25). Positives are weighted by ``w_i = max_c σ(sg(x_ic))`` and
  the box terms divided by ``W = max(1, GPU-mean Σ w_i)``, exactly like GFL's box terms.
* **Test**: per level top ``nms_pre`` (location, class) pairs over ``score_thr``, decode,
  rescale, class-wise rotated NMS (IoU 0.1 as the DOTA references), ``max_per_img``.

Shape legend: ``B`` images, ``A`` priors over all levels, ``C`` classes, ``R = reg_max + 1``,
``K`` angle bins. Rotated boxes ``(cx, cy, w, h, θ)``, θ radians.
"""
from __future__ import annotations

from typing import Any, NamedTuple, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.structures import InstanceData
from torch import Tensor

from rotated_ld.registry import MODELS, TASK_UTILS
from rotated_ld.structures.bbox import check_angle_version, regularize_rboxes, rescale_rboxes

from ..task_modules.coders.angle_coder import internal_angle_version
from ..utils import empty_instances, filter_scores_and_topk, flatten_levels, multiclass_nms, reduce_mean
from .gfl_head import GFLHead, Targets

_RIOU = {'type': 'RotatedIoULoss', 'loss_weight': 2.0}
_CDFL = {'type': 'CircularDFLoss', 'loss_weight': 0.25}
_CIRC = {'type': 'CircularAngleCoder', 'angle_bins': 36}
_DAPC = {'type': 'DistanceAnglePointCoder'}
_RATSS = {'type': 'RotatedATSSAssigner', 'topk': 9}
_RTEST = {'nms_pre': 2000, 'min_bbox_size': 0, 'score_thr': 0.05,
          'nms': {'type': 'nms_rotated', 'iou_threshold': 0.1}, 'max_per_img': 2000}


class RotatedFlatOutputs(NamedTuple):
    """:class:`..gfl_head.FlatOutputs` plus ``angle_logits`` (B, A, K) fp32.

    cls_logits (B, A, C); reg_logits (B, A, 4R) fp32; priors (A, 4) ``x, y, sw, sh``;
    prior_boxes (A, 4) xyxy squares of side ``octave_base_scale · stride``; strides (A,);
    level_ids (A,); num_level_priors; featmap_sizes.
    """
    cls_logits: Tensor
    reg_logits: Tensor
    priors: Tensor
    prior_boxes: Tensor
    strides: Tensor
    level_ids: Tensor
    num_level_priors: list
    featmap_sizes: list
    angle_logits: Tensor


@MODELS.register_module()
class RotatedGFLHead(GFLHead):
    """GFL head for rotated boxes with a circular angle distribution (see module docstring).

    Args:
        num_classes, in_channels, feat_channels, stacked_convs, norm_cfg, reg_max, strides,
            octave_base_scale, loss_cls, loss_dfl: as :class:`GFLHead`.
        angle_version (str): ``'oc'`` | ``'le90'`` (default) | ``'le135'``: version of the GT
            boxes given to the loss and of the predicted boxes.
        angle_coder (dict): ``dict(type='CircularAngleCoder', angle_bins=36)`` (default) or
            ``dict(type='PlainAngleCoder')`` (baseline: one regressed scalar); its
            ``angle_version`` is set from the head's.
        bbox_coder (dict): ``dict(type='DistanceAnglePointCoder')``.
        loss_bbox (dict): rotated IoU loss on decoded boxes (``RotatedIoULoss``, 2.0).
        loss_angle (dict | None): circular DFL on the angle bins (``CircularDFLoss``, 0.25);
            ignored (no ``loss_angle``) with the plain coder, which learns through ``loss_bbox``.
        train_cfg: ``dict(assigner=dict(type='RotatedATSSAssigner', topk=9))``.
        test_cfg: ``dict(nms_pre=2000, min_bbox_size=0, score_thr=0.05,
            nms=dict(type='nms_rotated', iou_threshold=0.1), max_per_img=2000)``.

    Example:
        >>> head = RotatedGFLHead(3, 8, feat_channels=8, stacked_convs=1, norm_cfg=None,
        ...                       strides=(8, 16))
        >>> cls, reg, ang = head([torch.zeros(1, 8, 4, 4), torch.zeros(1, 8, 2, 2)])
        >>> tuple(reg[0].shape), tuple(ang[1].shape)
        ((1, 68, 4, 4), (1, 36, 2, 2))
    """

    #: checked by ``KDSingleStageDetector`` between teacher and student (plus GFL's list)
    distill_compat_attrs = ('angle_bins', 'angle_version', 'angle_range', 'edge_order', 'angle_coder_type')
    edge_order = 'ltrb'

    def __init__(self, num_classes: int, in_channels: int, *, angle_version: str = 'le90',
                 angle_coder: dict = _CIRC, bbox_coder: dict = _DAPC,
                 loss_bbox: dict = _RIOU, loss_angle: Optional[dict] = _CDFL,
                 train_cfg: Optional[dict] = None, test_cfg: Optional[dict] = None, **kwargs: Any):
        self.angle_version = check_angle_version(angle_version)
        self.internal_version = internal_angle_version(angle_version)
        # plain attributes may be set before nn.Module.__init__; _init_layers needs encode_size
        self.angle_coder = TASK_UTILS.build(dict(angle_coder, angle_version=angle_version))
        self.angle_coder_type = type(self.angle_coder).__name__
        self.angle_bins = int(getattr(self.angle_coder, 'angle_bins', 1))
        theta_min = self.angle_coder.theta_min
        self.angle_range = (round(theta_min, 6), round(theta_min + self.angle_coder.period, 6))
        train_cfg = dict(train_cfg) if train_cfg is not None else {}
        train_cfg.setdefault('assigner', dict(_RATSS))
        super().__init__(num_classes, in_channels, loss_bbox=loss_bbox, train_cfg=train_cfg,
                         test_cfg=test_cfg if test_cfg is not None else dict(_RTEST), **kwargs)
        self.rbox_coder = TASK_UTILS.build(dict(bbox_coder))
        self.loss_angle = (MODELS.build(dict(loss_angle))
                           if loss_angle is not None and self.angle_coder.is_distribution else None)

    # ------------------------------------------------------------------ layers
    def _init_layers(self) -> None:
        """GFL layers + ``gfl_angle`` (3×3 conv on the regression tower → ``K`` or 1 channels)."""
        super()._init_layers()
        last = self.feat_channels if self.stacked_convs > 0 else self.in_channels
        self.gfl_angle = nn.Conv2d(last, self.angle_coder.encode_size, 3, padding=1)

    def _init_weights(self) -> None:
        super()._init_weights()
        nn.init.normal_(self.gfl_angle.weight, 0, 0.01)
        nn.init.zeros_(self.gfl_angle.bias)

    def forward(self, feats: Sequence[Tensor]) -> tuple[list[Tensor], list[Tensor], list[Tensor]]:
        """Per-level raw outputs.

        Args:
            feats: per level ``(B, in_channels, H_l, W_l)``.

        Returns:
            cls_scores: per level ``(B, C, H_l, W_l)`` logits.
            bbox_preds: per level ``(B, 4 * (reg_max + 1), H_l, W_l)`` fp32 edge logits (stride units).
            angle_preds: per level ``(B, K, H_l, W_l)`` fp32 angle logits (``K = 1``: raw angle).
        """
        if len(feats) != len(self.scales):
            raise ValueError(f'{len(feats)} feature levels for {len(self.scales)} strides')
        cls_scores, bbox_preds, angle_preds = [], [], []
        for x, scale in zip(feats, self.scales):
            c, r = x, x
            for conv in self.cls_convs:
                c = conv(c)
            for conv in self.reg_convs:
                r = conv(r)
            cls_scores.append(self.gfl_cls(c))
            bbox_preds.append(scale(self.gfl_reg(r)).float())
            angle_preds.append(self.gfl_angle(r).float())
        return cls_scores, bbox_preds, angle_preds

    # ------------------------------------------------------------------ flattening
    def flatten_outputs(self, cls_scores: Sequence[Tensor], bbox_preds: Sequence[Tensor],
                        angle_preds: Optional[Sequence[Tensor]] = None):
        """Per-level outputs (this head's or a teacher's) → ``(B, A, C)``, ``(B, A, 4R)``[, ``(B, A, K)``]."""
        cls, reg = super().flatten_outputs(cls_scores, bbox_preds)
        if angle_preds is None:
            return cls, reg
        return cls, reg, flatten_levels(angle_preds).float()

    def flatten(self, cls_scores: Sequence[Tensor], bbox_preds: Sequence[Tensor],
                angle_preds: Sequence[Tensor]) -> RotatedFlatOutputs:
        flat = super().flatten(cls_scores, bbox_preds)
        return RotatedFlatOutputs(*flat, angle_logits=flatten_levels(angle_preds).float())

    # ------------------------------------------------------------------ targets
    @torch.no_grad()
    def get_targets(self, flat: RotatedFlatOutputs, batch_gt_instances: list, batch_img_metas: list,
                    batch_gt_instances_ignore: Optional[list] = None) -> Targets:
        """Rotated ATSS assignment of every image → :class:`Targets` with ``bbox_targets`` (B, A, 5).

        GT rboxes (pixels, ``angle_version``) are converted to the internal version first; the
        targets hold internal-version boxes.
        """
        num_imgs, num_priors = flat.cls_logits.shape[:2]
        device = flat.priors.device
        labels = torch.full((num_imgs, num_priors), self.num_classes, dtype=torch.long, device=device)
        label_weights = torch.zeros((num_imgs, num_priors), device=device)
        bbox_targets = torch.zeros((num_imgs, num_priors, 5), device=device)
        gt_inds_all = torch.full((num_imgs, num_priors), -1, dtype=torch.long, device=device)
        max_overlaps = torch.zeros((num_imgs, num_priors), device=device)
        valid_all = torch.zeros((num_imgs, num_priors), dtype=torch.bool, device=device)
        results, internal_gts = [], []
        for i in range(num_imgs):
            valid = self._valid_mask(flat.priors, flat.num_level_priors, flat.featmap_sizes,
                                     batch_img_metas[i])
            valid_all[i] = valid
            vidx = valid.nonzero().squeeze(1)
            nlp = torch.bincount(flat.level_ids[vidx], minlength=len(flat.num_level_priors)).tolist()
            gt = batch_gt_instances[i]
            gt_boxes = gt.bboxes.to(device).float().reshape(-1, 5)
            gt_boxes = regularize_rboxes(gt_boxes, self.internal_version)
            internal_gts.append(gt_boxes)
            res = self.assigner.assign(flat.prior_boxes[vidx], nlp, gt_boxes, gt.labels.to(device))
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
        targets = Targets(labels, label_weights, bbox_targets, gt_inds_all, max_overlaps, pos_mask,
                          num_pos_avg, valid_all, results, batch_gt_instances, batch_img_metas)
        targets.extra['internal_gt_bboxes'] = internal_gts
        return targets

    # ------------------------------------------------------------------ losses
    def loss_by_feat(self, cls_scores: list[Tensor], bbox_preds: list[Tensor], angle_preds: list[Tensor],
                     batch_gt_instances: list, batch_img_metas: list,
                     batch_gt_instances_ignore: Optional[list] = None, **extra: Any) -> dict:
        """Losses of a batch.

        Args:
            cls_scores / bbox_preds / angle_preds: per level (B, C, H, W) / (B, 4R, H, W) / (B, K, H, W).
            batch_gt_instances: per image ``bboxes`` (G, 5) rboxes in pixels of the network input,
                ``angle_version``; ``labels`` (G,).
            batch_img_metas: per image metainfo (``pad_shape`` masks padding priors).
            batch_gt_instances_ignore: unused (difficult objects are not assigned).
            **extra: forwarded to :meth:`_extra_losses` (``feats``, ``teacher_outs``, ``teacher_feats``).

        Returns:
            ``loss_cls``, ``loss_bbox``, ``loss_dfl``, ``loss_angle`` (circular coder) + extras.
        """
        flat = self.flatten(cls_scores, bbox_preds, angle_preds)
        targets = self.get_targets(flat, batch_gt_instances, batch_img_metas, batch_gt_instances_ignore)
        losses = self._core_losses(flat, targets)
        losses.update(self._extra_losses(flat, targets, **extra))
        return losses

    def decode_stride_units(self, centers: Tensor, reg_logits: Tensor, angle_logits: Tensor) -> Tensor:
        """Decoded rboxes (N, 5) in stride units, internal version (not regularised).

        Args:
            centers (Tensor): (N, 2) prior centres divided by their stride.
            reg_logits (Tensor): (N, 4R). angle_logits (Tensor): (N, K).
        """
        angle = self.angle_coder.decode(angle_logits)
        return self.rbox_coder.decode_with_angle(centers, self.integral(reg_logits), angle)

    def _core_losses(self, flat: RotatedFlatOutputs, targets: Targets) -> dict:
        """QFL on all valid locations; rotated IoU, edge DFL and circular angle DFL on positives."""
        from rotated_ld.ops import box_iou_rotated

        num_imgs, num_priors, num_classes = flat.cls_logits.shape
        cls = flat.cls_logits.reshape(-1, num_classes)
        reg = flat.reg_logits.reshape(-1, 4 * (self.reg_max + 1))
        ang = flat.angle_logits.reshape(-1, flat.angle_logits.shape[-1])
        labels = targets.labels.reshape(-1)
        pos_inds = targets.pos_mask.reshape(-1).nonzero().squeeze(1)
        score = cls.new_zeros(labels.shape, dtype=torch.float)
        targets.pos_inds = pos_inds
        loss_angle = None
        if pos_inds.numel() > 0:
            prior = flat.priors[pos_inds % num_priors]
            stride = prior[:, 2:3]
            centers = prior[:, :2] / prior[:, 2:]
            pos_reg, pos_ang = reg[pos_inds], ang[pos_inds]
            pred_boxes = self.decode_stride_units(centers, pos_reg, pos_ang)
            gt = targets.bbox_targets.reshape(-1, 5)[pos_inds]
            gt_boxes = torch.cat([gt[:, :4] / stride, gt[:, 4:]], dim=1)
            weights = cls[pos_inds].detach().float().sigmoid().max(dim=1).values
            ious = box_iou_rotated(pred_boxes.detach(), gt_boxes, aligned=True).clamp(min=0, max=1)
            score[pos_inds] = ious.to(score.dtype)
            loss_bbox = self.loss_bbox(pred_boxes, gt_boxes, weight=weights, avg_factor=1.0)
            dist_targets = self.rbox_coder.encode(centers, gt_boxes, max_dis=self.reg_max, eps=0.1)[:, :4]
            loss_dfl = self.loss_dfl(pos_reg.reshape(-1, self.reg_max + 1), dist_targets.reshape(-1),
                                     weight=weights[:, None].expand(-1, 4).reshape(-1), avg_factor=4.0)
            if self.loss_angle is not None:
                loss_angle = self.loss_angle(pos_ang, self.angle_coder.encode(gt_boxes[:, 4]),
                                             weight=weights, avg_factor=1.0)
            weight_sum = weights.sum()
            targets.pos_weights, targets.pos_ious = weights, ious
            targets.pos_pred_boxes, targets.pos_target_boxes = pred_boxes, gt_boxes
        else:
            loss_bbox = reg.sum() * 0 + ang.sum() * 0
            loss_dfl = reg.sum() * 0
            if self.loss_angle is not None:
                loss_angle = ang.sum() * 0
            weight_sum = reg.new_zeros(())
            targets.pos_weights = reg.new_zeros((0,))
            targets.pos_ious = reg.new_zeros((0,))
            targets.pos_pred_boxes = targets.pos_target_boxes = reg.new_zeros((0, 5))
        weight_sum = max(reduce_mean(weight_sum.detach().float()).item(), 1.0)
        targets.weight_sum = weight_sum
        loss_cls = self.loss_cls(cls, (labels, score), weight=targets.label_weights.reshape(-1),
                                 avg_factor=targets.num_pos_avg)
        losses = dict(loss_cls=loss_cls, loss_bbox=loss_bbox / weight_sum, loss_dfl=loss_dfl / weight_sum)
        if loss_angle is not None:
            losses['loss_angle'] = loss_angle / weight_sum
        return losses

    # ------------------------------------------------------------------ inference
    def predict_by_feat(self, cls_scores: list[Tensor], bbox_preds: list[Tensor], angle_preds: list[Tensor],
                        batch_img_metas: Optional[list] = None, cfg: Optional[dict] = None,
                        rescale: bool = False, with_nms: bool = True) -> list[InstanceData]:
        """Decode → ``score_thr`` → per-level top ``nms_pre`` → rescale → rotated NMS → ``max_per_img``.

        Args:
            cls_scores / bbox_preds / angle_preds: per level (B, C, H, W) / (B, 4R, H, W) / (B, K, H, W).
            batch_img_metas: per image metainfo (``scale_factor`` (w, h) used when ``rescale``).
            rescale: map boxes to original-image coordinates.

        Returns:
            per image ``InstanceData``: ``bboxes`` (K, 5) rboxes in ``angle_version``, ``scores``
            (K,), ``labels`` (K,).
        """
        cfg = dict(self.test_cfg if cfg is None else cfg)
        featmap_sizes = [c.shape[-2:] for c in cls_scores]
        priors, _, _, nlp = self.get_priors(featmap_sizes, cls_scores[0].device)
        cls_all, reg_all, ang_all = self.flatten_outputs(cls_scores, bbox_preds, angle_preds)
        score_thr, nms_pre = cfg.get('score_thr', 0.05), cfg.get('nms_pre', -1)
        batch_img_metas = batch_img_metas or [{} for _ in range(cls_all.size(0))]
        out = []
        for i, meta in enumerate(batch_img_metas):
            boxes_l, scores_l, labels_l = [], [], []
            start = 0
            for n in nlp:
                sc, lb, keep = filter_scores_and_topk(cls_all[i, start:start + n].sigmoid(), score_thr, nms_pre)
                pri = priors[start:start + n][keep]
                stride = pri[:, 2:3]
                boxes = self.decode_stride_units(pri[:, :2] / pri[:, 2:], reg_all[i, start:start + n][keep],
                                                 ang_all[i, start:start + n][keep])
                boxes_l.append(torch.cat([boxes[:, :4] * stride, boxes[:, 4:]], dim=1))
                scores_l.append(sc)
                labels_l.append(lb)
                start += n
            out.append(self._post_process_rotated(torch.cat(boxes_l), torch.cat(scores_l),
                                                  torch.cat(labels_l), meta, cfg, rescale, with_nms))
        return out

    def _post_process_rotated(self, boxes: Tensor, scores: Tensor, labels: Tensor, meta: dict, cfg: dict,
                              rescale: bool, with_nms: bool) -> InstanceData:
        if rescale and meta.get('scale_factor') is not None:
            sf = meta['scale_factor']
            sx, sy = (float(sf[0]), float(sf[1])) if hasattr(sf, '__len__') else (float(sf), float(sf))
            boxes = rescale_rboxes(boxes, sx, sy)
        if cfg.get('min_bbox_size', -1) >= 0:
            ok = (boxes[:, 2:4] > cfg['min_bbox_size']).all(1)
            boxes, scores, labels = boxes[ok], scores[ok], labels[ok]
        if with_nms:
            boxes, scores, labels, _ = multiclass_nms(boxes, scores, labels, cfg.get('nms', _RTEST['nms']),
                                                      cfg.get('max_per_img', -1))
        if boxes.numel() == 0:
            return empty_instances(5, boxes.device, boxes.dtype)
        res = InstanceData()
        res.bboxes = regularize_rboxes(boxes, self.angle_version)
        res.scores, res.labels = scores, labels
        return res


__all__ = ['RotatedGFLHead', 'RotatedFlatOutputs']
