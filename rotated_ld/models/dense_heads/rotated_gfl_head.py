"""Rotated GFL head: edge distributions in the box frame + the angle as a distribution on a circle.

The project's angle-aware rotated head (docs/rotated_ld.md). It is the one distribution head
:class:`~.gfl_head.GFLHead` with the rotated box geometry (:class:`~.box_geometry.RBoxEdgesAngle`:
``box_type='rbox'``, one more output branch ``gfl_angle``); this class only sets that default.

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

from rotated_ld.registry import MODELS

from .gfl_head import GFLHead


@MODELS.register_module()
class RotatedGFLHead(GFLHead):
    """GFL head for rotated boxes with a circular angle distribution (see module docstring).

    Args (besides :class:`GFLHead`'s):
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

    default_box_type = 'rbox'


__all__ = ['RotatedGFLHead']
