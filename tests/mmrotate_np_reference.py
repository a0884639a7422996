"""numpy float32 re-implementations of mmdet 3.x / mmrotate box arithmetic, written for the tests from
the upstream sources (mmdet ``AnchorGenerator.gen_single_level_base_anchors`` /
``single_level_grid_priors``; mmrotate 1.x ``FakeRotatedAnchorGenerator``, ``hbox2rbox``,
``RotatedBoxes.regularize_boxes``, ``norm_angle``, ``DeltaXYWHTRBBoxCoder``'s ``bbox2delta`` /
``delta2bbox``; mmrotate 0.x ``RotatedAnchorGenerator`` and ``DeltaXYWHAOBBoxCoder``, which are the
1.x functions without anchor / GT regularisation). Independent of ``rotated_ld`` (numpy only), so
the package's compat modes can be checked against them.
"""
import numpy as np

F32 = np.float32
PI, HALF_PI = F32(np.pi), F32(np.pi / 2)


def np_mmdet_anchors(stride, feat, octave_base_scale=4, scales_per_octave=3, ratios=(1.0, 0.5, 2.0)):
    scales = (np.array([2 ** (i / scales_per_octave) for i in range(scales_per_octave)])
              * octave_base_scale).astype(F32)
    r = np.array(ratios, F32)
    h_ratios = np.sqrt(r)
    w_ratios = F32(1) / h_ratios
    ws = (F32(stride) * w_ratios[:, None] * scales[None, :]).reshape(-1)
    hs = (F32(stride) * h_ratios[:, None] * scales[None, :]).reshape(-1)
    half = F32(0.5)
    base = np.stack([F32(0) - half * ws, F32(0) - half * hs, F32(0) + half * ws, F32(0) + half * hs], -1)
    sx = np.arange(feat[1]).astype(F32) * F32(stride)
    sy = np.arange(feat[0]).astype(F32) * F32(stride)
    xx, yy = np.tile(sx, len(sy)), np.repeat(sy, len(sx))
    shifts = np.stack([xx, yy, xx, yy], -1)
    return (base[None] + shifts[:, None]).reshape(-1, 4)  # float32 throughout


def np_rbox(xyxy, pattern):
    w, h = xyxy[:, 2] - xyxy[:, 0], xyxy[:, 3] - xyxy[:, 1]
    x, y = (xyxy[:, 2] + xyxy[:, 0]) / F32(2), (xyxy[:, 3] + xyxy[:, 1]) / F32(2)
    t = np.zeros_like(x)
    if pattern is None:
        return np.stack([x, y, w, h, t], -1)
    start = F32(-np.pi / 2 if pattern in ('oc', 'le90') else -np.pi / 4)
    pi, half_pi = F32(np.pi), F32(np.pi / 2)
    if pattern == 'oc':
        t = np.remainder(t - start, pi)
        keep = t < half_pi
        return np.stack([x, y, np.where(keep, w, h), np.where(keep, h, w), np.where(keep, t, t - half_pi) + start], -1)
    keep = w > h
    t = np.where(keep, t, t + half_pi)
    t = np.remainder(t - start, pi) + start
    return np.stack([x, y, np.where(keep, w, h), np.where(keep, h, w), t], -1)


def np_norm(t, v):
    if v == 'oc':
        return t
    start = F32(np.pi / 2) if v == 'le90' else F32(np.pi / 4)
    return np.remainder(t + start, PI) - start


def np_regularize(b, v):
    x, y, w, h, t = b.T
    start = F32(-np.pi / 2) if v in ('oc', 'le90') else F32(-np.pi / 4)
    if v == 'oc':
        t = np.remainder(t - start, PI)
        keep = t < HALF_PI
        return np.stack([x, y, np.where(keep, w, h), np.where(keep, h, w), np.where(keep, t, t - HALF_PI) + start], 1)
    keep = w > h
    t = np.remainder(np.where(keep, t, t + HALF_PI) - start, PI) + start
    return np.stack([x, y, np.where(keep, w, h), np.where(keep, h, w), t], 1)


def np_bbox2delta(p, g, v, edge_swap, proj_xy, regularize_gt=True):
    """1.x ``bbox2delta`` (``regularize_gt=False``: 0.x, GTs already in the version)."""
    if regularize_gt:
        g = np_regularize(g, v)
    px, py, pw, ph, pt = p.T
    gx, gy, gw, gh, gt = g.T
    if proj_xy:
        dx = (np.cos(pt) * (gx - px) + np.sin(pt) * (gy - py)) / pw
        dy = (-np.sin(pt) * (gx - px) + np.cos(pt) * (gy - py)) / ph
    else:
        dx, dy = (gx - px) / pw, (gy - py) / ph
    if edge_swap:
        d1, d2 = np_norm(gt - pt, v), np_norm(gt - pt + HALF_PI, v)
        first = np.abs(d1) < np.abs(d2)
        gw, gh, dt = np.where(first, gw, gh), np.where(first, gh, gw), np.where(first, d1, d2)
    else:
        dt = np_norm(gt - pt, v)
    return np.stack([dx, dy, np.log(gw / pw), np.log(gh / ph), dt], 1)


def np_delta2bbox(p, d, v, edge_swap, proj_xy, max_shape=None):
    px, py, pw, ph, pt = p.T
    dx, dy, dw, dh, dt = d.T
    clip = float(np.abs(np.log(16 / 1000)))  # a Python float: keeps float32 arrays float32
    gw, gh = pw * np.exp(np.clip(dw, -clip, clip)), ph * np.exp(np.clip(dh, -clip, clip))
    if proj_xy:
        gx = dx * pw * np.cos(pt) - dy * ph * np.sin(pt) + px
        gy = dx * pw * np.sin(pt) + dy * ph * np.cos(pt) + py
    else:
        gx, gy = px + pw * dx, py + ph * dy
    gt = np_norm(pt + dt, v)
    if max_shape is not None:
        gx, gy = np.clip(gx, 0, max_shape[1] - 1), np.clip(gy, 0, max_shape[0] - 1)
    if edge_swap:
        keep = gw > gh
        return np.stack([gx, gy, np.where(keep, gw, gh), np.where(keep, gh, gw),
                         np_norm(np.where(keep, gt, gt + HALF_PI), v)], 1)
    return np.stack([gx, gy, gw, gh, gt], 1)
