"""RetinaNet-style delta coder for rotated boxes: ``(dx, dy, dw, dh, da)`` against a prior.

Behaviour follows mmrotate's ``DeltaXYWHAOBBoxCoder`` (0.x) / ``DeltaXYWHTRBBoxCoder`` (1.x),
the coder of rotated RetinaNet, Rotated-LD and JDet's ``ld_rotated_retinanet``:

* ``dx, dy``: centre offset divided by the prior's ``w, h``; with ``proj_xy=True`` the offset is
  first rotated into the prior's frame (``R(-a_p)·(g − p)``). Horizontal priors (angle 0, the
  rotated RetinaNet case) make both variants identical.
* ``dw, dh = log(w_g / w_p), log(h_g / h_p)``.
* ``da = wrap(a_g − a_p)`` in radians, divided by ``norm_factor·π`` when ``norm_factor`` is set
  (JDet: ``norm_factor=1``, i.e. ``da`` in units of π). The wrap is the angle version's:
  ``le90`` → ``[-π/2, π/2)``, ``le135`` → ``[-π/4, 3π/4)``, ``oc`` → none (as mmrotate: an
  ``oc`` angle minus a horizontal prior's 0 already lies in ``[-π/2, 0)``).
* ``edge_swap=True`` (mmrotate's le90/le135 RetinaNet configs): the target may describe the GT
  as ``(h, w, a + π/2)`` when that needs the smaller turn; decoding then returns ``w ≥ h``.

``compat='mmrotate0'`` / ``'mmrotate1'`` (imported mmrotate weights, see
:mod:`rotated_ld.models.task_modules.mmrotate_compat`) repeats mmrotate's own float32 rules where
this project's exact mode differs: decoded centres are clamped to ``[0, W − 1] × [0, H − 1]``
(exact mode: ``[0, W] × [0, H]``) when ``max_shape`` is given; the angle wrap is mmrotate's
``norm_angle`` verbatim; a decoded square (``w == h``) is turned by π/2 under ``edge_swap``
(mmrotate keeps ``(w, h, t)`` only where ``w > h``); ``'mmrotate1'`` also regularises the GTs with
1.x's ``RotatedBoxes.regularize_boxes`` inside ``encode`` as ``DeltaXYWHTRBBoxCoder`` does. The
``edge_swap`` choice at a GT exactly 45° from the prior (``|da| == |da2|`` up to float32
rounding) is then decided by the same float32 operations as in mmrotate: the first description
is kept only if ``|da| < |da2|`` after rounding (both modes use this strict comparison).

Boxes are ``(cx, cy, w, h, t)``, ``t`` in radians (see ``rotated_ld.structures``). Priors may be
given as ``(..., 4)`` xyxy horizontal boxes (angle 0) or ``(..., 5)`` rotated boxes.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from rotated_ld.registry import TASK_UTILS
from rotated_ld.structures.bbox import as_rboxes, check_angle_version, norm_angle

from ..mmrotate_compat import check_compat, mmrotate_norm_angle, mmrotate_regularize_boxes


def wrap_delta_angle(angle: Tensor, angle_version: str) -> Tensor:
    """Wrap an angle (difference) into the angle version's range, period π; ``oc``: unchanged.

    ``le90`` → ``[-π/2, π/2)``, ``le135`` → ``[-π/4, 3π/4)`` (:func:`norm_angle`); ``oc`` is not
    wrapped, as mmrotate (an ``oc`` angle minus a horizontal prior's 0 is already in ``[-π/2, 0)``).

    Args:
        angle (Tensor): any shape, radians.
        angle_version (str): ``'oc'``, ``'le90'`` or ``'le135'``.
    """
    return angle if check_angle_version(angle_version) == 'oc' else norm_angle(angle, angle_version)


@TASK_UTILS.register_module()
class DeltaXYWHAOBBoxCoder:
    """Encode rotated GT boxes as deltas against priors and decode deltas back to boxes.

    Args:
        angle_version (str): ``'oc'``, ``'le90'`` or ``'le135'``; sets the angle wrap and the
            range of decoded angles. Default ``'oc'``.
        norm_factor (float | None): ``da`` is divided by ``norm_factor·π`` when set; ``None``
            keeps radians (mmrotate's rotated RetinaNet / Rotated-LD configs). Default None.
        edge_swap (bool): allow the ``(h, w, a + π/2)`` description of the GT (see module
            docstring); decoded boxes then have ``w ≥ h``. Default False.
        proj_xy (bool): centre offset in the prior's rotated frame. Default False.
        target_means (Sequence[float]): 5 means subtracted from encoded deltas. Default 0.
        target_stds (Sequence[float]): 5 stds dividing encoded deltas. Default 1.
        wh_ratio_clip (float): ``|dw|, |dh| ≤ |log(wh_ratio_clip)|`` at decoding. Default 16/1000.
        angle_range (str | None): mmrotate's name for ``angle_version``; overrides it if given.
        compat (str | None): ``None`` exact (default); ``'mmrotate0'`` / ``'mmrotate1'``: mmrotate's
            float32 rules (module docstring) for imported mmrotate weights.

    Example:
        >>> coder = DeltaXYWHAOBBoxCoder(angle_version='le90')
        >>> prior = torch.tensor([[10., 10., 8., 4., 0.]])
        >>> gt = torch.tensor([[12., 9., 16., 4., 0.3]])
        >>> torch.allclose(coder.decode(prior, coder.encode(prior, gt)), gt, atol=1e-5)
        True
    """

    encode_size = 5

    def __init__(self,
                 angle_version: str = 'oc',
                 norm_factor: float | None = None,
                 edge_swap: bool = False,
                 proj_xy: bool = False,
                 target_means: Sequence[float] = (0., 0., 0., 0., 0.),
                 target_stds: Sequence[float] = (1., 1., 1., 1., 1.),
                 wh_ratio_clip: float = 16 / 1000,
                 angle_range: str | None = None,
                 compat: str | None = None) -> None:
        angle_version = angle_range if angle_range is not None else angle_version
        check_angle_version(angle_version)
        if edge_swap and angle_version == 'oc':
            raise ValueError("edge_swap=True needs a w ≥ h version ('le90' or 'le135'), got 'oc'")
        self.angle_version = angle_version
        self.norm_factor = norm_factor
        self.edge_swap = edge_swap
        self.proj_xy = proj_xy
        self.means = tuple(float(m) for m in target_means)
        self.stds = tuple(float(s) for s in target_stds)
        self.wh_ratio_clip = wh_ratio_clip
        self.compat = check_compat(compat)

    def _wrap(self, angle: Tensor) -> Tensor:
        if self.compat is not None:
            return mmrotate_norm_angle(angle, self.angle_version)
        return wrap_delta_angle(angle, self.angle_version)

    def encode(self, priors: Tensor, gt_bboxes: Tensor) -> Tensor:
        """Deltas of ``gt_bboxes`` w.r.t. ``priors``.

        Args:
            priors (Tensor): (..., 4) xyxy or (..., 5) rboxes.
            gt_bboxes (Tensor): (..., 5) rboxes in this coder's angle version.

        Returns:
            Tensor: (..., 5) normalised deltas ``(dx, dy, dw, dh, da)``.
        """
        dtype = torch.promote_types(gt_bboxes.dtype, torch.float32)  # fp16 → fp32, fp64 kept
        p = as_rboxes(priors).to(dtype)
        g = gt_bboxes.to(dtype)
        if self.compat == 'mmrotate1':  # DeltaXYWHTRBBoxCoder regularises the GTs itself
            g = mmrotate_regularize_boxes(g, self.angle_version)
        px, py, pw, ph, pa = p.unbind(-1)
        gx, gy, gw, gh, ga = g.unbind(-1)
        ox, oy = gx - px, gy - py
        if self.proj_xy:
            cos, sin = torch.cos(pa), torch.sin(pa)
            ox, oy = cos * ox + sin * oy, -sin * ox + cos * oy
        dx, dy = ox / pw, oy / ph
        da = self._wrap(ga - pa)
        if self.edge_swap:
            da2 = self._wrap(ga - pa + math.pi / 2)
            keep = da.abs() < da2.abs()
            gw, gh = torch.where(keep, gw, gh), torch.where(keep, gh, gw)
            da = torch.where(keep, da, da2)
        dw, dh = torch.log(gw / pw), torch.log(gh / ph)
        if self.norm_factor:
            da = da / (self.norm_factor * math.pi)
        deltas = torch.stack([dx, dy, dw, dh, da], -1)
        return (deltas - deltas.new_tensor(self.means)) / deltas.new_tensor(self.stds)

    def decode(self, priors: Tensor, deltas: Tensor, max_shape: Sequence[int] | None = None) -> Tensor:
        """Boxes from deltas.

        Args:
            priors (Tensor): (..., 4) xyxy or (..., 5) rboxes, broadcastable against ``deltas``.
            deltas (Tensor): (..., 5) normalised deltas.
            max_shape (Sequence[int] | None): ``(h, w)``; if given, centres are clamped to
                ``[0, w] × [0, h]`` (``[0, w − 1] × [0, h − 1]`` with ``compat``, as mmrotate).

        Returns:
            Tensor: (..., 5) rboxes ``(cx, cy, w, h, t)`` in this coder's angle version
            (``w ≥ h`` when ``edge_swap``).
        """
        p = as_rboxes(priors).to(deltas.dtype)
        d = deltas * deltas.new_tensor(self.stds) + deltas.new_tensor(self.means)
        dx, dy, dw, dh, da = d.unbind(-1)
        px, py, pw, ph, pa = p.unbind(-1)
        if self.norm_factor:
            da = da * (self.norm_factor * math.pi)
        max_ratio = abs(math.log(self.wh_ratio_clip))
        gw = pw * dw.clamp(-max_ratio, max_ratio).exp()
        gh = ph * dh.clamp(-max_ratio, max_ratio).exp()
        ox, oy = dx * pw, dy * ph
        if self.proj_xy:
            cos, sin = torch.cos(pa), torch.sin(pa)
            ox, oy = cos * ox - sin * oy, sin * ox + cos * oy
        gx, gy = px + ox, py + oy
        if max_shape is not None:
            last = 1 if self.compat is not None else 0  # mmrotate: the last pixel's index
            gx = gx.clamp(0, max_shape[1] - last)
            gy = gy.clamp(0, max_shape[0] - last)
        ga = self._wrap(pa + da)
        if self.edge_swap:
            keep = gw > gh if self.compat is not None else gw >= gh
            gw, gh, ga = (torch.where(keep, gw, gh), torch.where(keep, gh, gw),
                          self._wrap(torch.where(keep, ga, ga + math.pi / 2)))
        return torch.stack([gx, gy, gw, gh, ga], -1)
