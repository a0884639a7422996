"""rotated_ld.evaluation.analysis against independent references: a brute-force DOTA matcher with
shapely IoU, shapely geometry for centre / size, an explicit search over the symmetric angle
representations, hand cases with known angle errors (incl. the wrap at pi and the near-square pi/2
rule), and constructed scenes with exactly one error of each TIDE kind whose AP effect is checked by
re-scoring hand-fixed detections with eval_map."""
import numpy as np
import pytest
import shapely

from rotated_ld.evaluation.analysis import (
    angle_error,
    bootstrap_mean_ci,
    canonical_rboxes,
    classify_errors,
    error_breakdown,
    evaluate_model,
    paired_summary,
    tp_stats,
)
from rotated_ld.evaluation.functional import eval_map, rbox2poly_np

D = np.pi / 180


def _poly(rb):
    return shapely.Polygon(rbox2poly_np(np.array([rb]))[0].reshape(4, 2))


def _scene(rng, n_img=6, n_cls=3):
    gts, dets, rbs_g, rbs_d = {}, {}, {}, {}
    for i in range(n_img):
        g = np.column_stack([rng.uniform(20, 280, 8), rng.uniform(20, 280, 8), rng.uniform(8, 60, 8),
                             rng.uniform(8, 40, 8), rng.uniform(-np.pi, np.pi, 8)])
        gl = rng.integers(0, n_cls, 8)
        diff = rng.random(8) < 0.15
        # detections: jittered copies of objects (some twice), some relabelled, some random
        src = rng.integers(0, 8, 12)
        d = g[src] + np.column_stack([rng.normal(0, 4, 12), rng.normal(0, 4, 12), rng.normal(0, 4, 12),
                                      rng.normal(0, 3, 12), rng.normal(0, 0.2, 12)])
        d[:, 2:4] = np.abs(d[:, 2:4]) + 2
        dl = np.where(rng.random(12) < 0.15, rng.integers(0, n_cls, 12), gl[src])
        extra = np.column_stack([rng.uniform(0, 300, 3), rng.uniform(0, 300, 3), rng.uniform(8, 50, 3),
                                 rng.uniform(8, 50, 3), rng.uniform(-3, 3, 3)])
        d = np.concatenate([d, extra])
        dl = np.concatenate([dl, rng.integers(0, n_cls, 3)])
        name = f'img{i}'
        gts[name] = dict(bboxes=rbox2poly_np(g[~diff]), labels=gl[~diff], bboxes_ignore=rbox2poly_np(g[diff]),
                         labels_ignore=gl[diff])
        dets[name] = dict(bboxes=d, scores=np.round(rng.random(len(d)), 3), labels=dl)
        rbs_g[name] = np.concatenate([g[~diff], g[diff]])
        rbs_d[name] = d
    return gts, dets, rbs_g, rbs_d


def _brute_match(gts, dets, images, thr=0.5):
    """DOTA_devkit voc_eval per class with shapely IoU: {(image, det index): (tp, ignored, gt index, iou)}."""
    out = {}
    classes = {int(c) for i in images for c in dets[i]['labels']}
    for c in classes:
        items = [(dets[i]['scores'][k], n, i, k) for n, i in enumerate(images)
                 for k in range(len(dets[i]['labels'])) if dets[i]['labels'][k] == c]
        items.sort(key=lambda t: (-t[0], t[1], t[3]))  # score desc, then input order (stable)
        used = set()
        for _, _, i, k in items:
            g = gts[i]
            polys = list(g['bboxes']) + list(g['bboxes_ignore'])
            labels = list(g['labels']) + list(g['labels_ignore'])
            diff = [False] * len(g['bboxes']) + [True] * len(g['bboxes_ignore'])
            dp = shapely.Polygon(rbox2poly_np(dets[i]['bboxes'][k:k + 1])[0].reshape(4, 2))
            best, jbest = -1.0, -1
            for j, (p, lab) in enumerate(zip(polys, labels)):
                if lab != c:
                    continue
                gp = shapely.Polygon(np.reshape(p, (4, 2)))
                iou = dp.intersection(gp).area / dp.union(gp).area
                if iou > best:
                    best, jbest = iou, j
            if best > thr and diff[jbest]:
                out[(i, k)] = (False, True, jbest, best)
            elif best > thr and (i, jbest) not in used:
                used.add((i, jbest))
                out[(i, k)] = (True, False, jbest, best)
            else:
                out[(i, k)] = (False, False, jbest, max(best, 0.0))
    return out


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_matcher_and_tp_stats_vs_brute_force(seed):
    rng = np.random.default_rng(seed)
    gts, dets, rbs_g, rbs_d = _scene(rng)
    images = sorted(gts)
    ev = evaluate_model('m', dets, gts, images, ['a', 'b', 'c'])
    ref = _brute_match(gts, dets, images)
    m = ev.matches
    tp = ev.tp_mask(0.5)
    n_tp = 0
    for f in range(len(m.det_label)):
        i, k = images[m.det_img[f]], m.det_idx[f]
        r_tp, r_ign, r_j, r_iou = ref[(i, k)]
        if abs(r_iou - 0.5) < 1e-9:
            continue  # on the threshold: float-rounding dependent in either implementation
        assert tp[f] == r_tp and m.ignored[0, f] == r_ign, (i, k)
        if r_tp:
            n_tp += 1
            assert m.gt_idx[m.best_gt[f]] == (r_j if r_j < len(gts[i]['bboxes']) else r_j - len(gts[i]['bboxes']))
            assert m.best_iou[f] == pytest.approx(r_iou, abs=1e-7)
    assert n_tp > 10  # the scene has real matches
    # statistics of the matched TPs: shapely centroid / minimum rotated rectangle, explicit angle search
    s = tp_stats(ev, square_ratio=1.2)
    assert len(s.det) == n_tp
    for f, gflat, iou, c_px, c_rel, size_err, ang in zip(s.det, s.gt, s.iou, s.centre_px, s.centre_rel,
                                                          s.size_err, s.angle_err):
        i = images[m.det_img[f]]
        drb, grb = rbs_d[i][m.det_idx[f]], rbs_g[i][m.gt_idx[gflat] + (0 if not m.gt_difficult[gflat] else 0)]
        if m.gt_difficult[gflat]:
            raise AssertionError('a TP never matches a difficult object')
        dp, gp = _poly(drb), _poly(grb)
        assert iou == pytest.approx(dp.intersection(gp).area / dp.union(gp).area, abs=1e-7)
        assert c_px == pytest.approx(dp.centroid.distance(gp.centroid), abs=1e-6)
        assert c_rel == pytest.approx(c_px / np.sqrt(gp.area), rel=1e-6)
        ds, gs = sorted(drb[2:4]), sorted(grb[2:4])
        assert size_err == pytest.approx((abs(ds[1] / gs[1] - 1) + abs(ds[0] / gs[0] - 1)) / 2, rel=1e-6, abs=1e-9)
        assert ang == pytest.approx(_brute_angle(drb, grb, 1.2), abs=1e-9)


def _brute_angle(d, g, square_ratio):
    """Smallest rotation mapping the det's orientation onto the gt's under the box symmetry group."""
    def long_dir(rb):
        return rb[4] if rb[2] >= rb[3] else rb[4] + np.pi / 2
    square = max(g[2], g[3]) < square_ratio * min(g[2], g[3])
    step = np.pi / 2 if square else np.pi
    a, b = (d[4], g[4]) if square else (long_dir(d), long_dir(g))
    return min(abs(a - b + k * step) for k in range(-12, 13))


@pytest.mark.parametrize('det, gt, expect_deg', [
    ((0, 0, 40, 10, 5 * D), (0, 0, 40, 10, 0), 5),
    ((0, 0, 10, 40, 90 * D + 3 * D), (0, 0, 40, 10, 0), 3),      # w/h swapped + quarter turn: same box, 3° off
    ((0, 0, 40, 10, 179 * D), (0, 0, 40, 10, 1 * D), 2),         # wrap at pi: 179° vs 1° is 2°
    ((0, 0, 40, 10, -89 * D), (0, 0, 40, 10, 89 * D), 2),        # le90 boundary
    ((0, 0, 40, 10, 100 * D), (0, 0, 40, 10, 0), 80),            # elongated: up to 90°
    ((0, 0, 40, 10, 90 * D), (0, 0, 40, 10, 0), 90),
    ((0, 0, 20, 19, 88 * D), (0, 0, 20, 19, 0), 2),              # near-square (20/19 < 1.2): modulo 90°
    ((0, 0, 20, 19, 45 * D), (0, 0, 20, 19, 0), 45),             # near-square: at most 45°
    ((0, 0, 20, 19, 0), (0, 0, 24, 19, 88 * D), 88),             # 24/19 >= 1.2: elongated rule
])
def test_angle_error_hand_cases(det, gt, expect_deg):
    err = angle_error(canonical_rboxes(np.array([det], float)), canonical_rboxes(np.array([gt], float)), 1.2)
    assert np.degrees(err[0]) == pytest.approx(expect_deg, abs=1e-9)
    # the polygon of the same box gives the same canonical parameters (any corner order / angle version)
    cp = canonical_rboxes(rbox2poly_np(np.array([gt], float)))
    err_p = angle_error(canonical_rboxes(rbox2poly_np(np.array([det], float))), cp, 1.2)
    assert np.degrees(err_p[0]) == pytest.approx(expect_deg, abs=1e-6)


def test_canonical_box_of_a_quadrilateral_is_its_min_area_rectangle():
    quad = np.array([[0, 0, 40, 2, 41, 12, 1, 10.0]])  # not a rectangle
    cx, cy, L, S, phi = canonical_rboxes(quad)[0]
    rect = shapely.Polygon(quad[0].reshape(4, 2)).minimum_rotated_rectangle
    sides = sorted(np.hypot(*np.diff(np.array(rect.exterior.coords)[:3], axis=0).T))
    assert (S, L) == pytest.approx(sides, rel=1e-9)
    assert (cx, cy) == pytest.approx((rect.centroid.x, rect.centroid.y), abs=1e-9)


def test_hbox_stats_and_no_angle():
    gts = {'a': dict(bboxes=np.array([[0, 0, 40, 20.0], [100, 100, 120, 140]]), labels=np.array([0, 0]))}
    dets = {'a': dict(bboxes=np.array([[2, 1, 42, 21.0], [100, 100, 122, 150]]), scores=np.array([.9, .8]),
                      labels=np.array([0, 0]))}
    ev = evaluate_model('h', dets, gts, ['a'], ['x'], strict=False)
    s = tp_stats(ev)
    assert ev.kind == 'hbox' and len(s.det) == 2 and np.isnan(s.angle_err).all()
    np.testing.assert_allclose(s.centre_px, [np.hypot(2, 1), np.hypot(1, 5)])
    np.testing.assert_allclose(s.size_err, [0.0, (2 / 20 + 10 / 40) / 2])
    np.testing.assert_allclose(s.iou, [38 * 19 / (800 + 800 - 38 * 19), 800 / 1100])
    assert list(s.bucket) == ['small', 'small']  # sqrt(40 · 20) = 28 px < 32


def test_paired_gain_and_bootstrap():
    g = np.array([[50, 50, 40, 10, 0.0], [150, 50, 40, 10, 0.0], [50, 150, 40, 10, 0.0]])
    gts = {f'i{k}': dict(bboxes=rbox2poly_np(g), labels=np.zeros(3, int)) for k in range(4)}
    a = {i: dict(bboxes=g + [2, 0, 0, 0, 3 * D], scores=np.ones(3), labels=np.zeros(3, int)) for i in gts}
    b = {i: dict(bboxes=g + [1, 0, 0, 0, 1 * D], scores=np.ones(3), labels=np.zeros(3, int)) for i in gts}
    b['i0'] = dict(bboxes=g[:2] + [1, 0, 0, 0, 1 * D], scores=np.ones(2), labels=np.zeros(2, int))  # misses one
    images = sorted(gts)
    sa, sb = tp_stats(evaluate_model('A', a, gts, images, ['x'])), tp_stats(evaluate_model('B', b, gts, images, ['x']))
    p = paired_summary(sa, sb, n_boot=500, seed=0)
    assert (p['objects_both'], p['only_a'], p['only_b']) == (11, 1, 0)
    ia, ib = _poly(g[0] + [2, 0, 0, 0, 3 * D]), _poly(g[0] + [1, 0, 0, 0, 1 * D])
    gp = _poly(g[0])
    gain = ib.intersection(gp).area / ib.union(gp).area - ia.intersection(gp).area / ia.union(gp).area
    # every object has the same change: the mean is exact and the bootstrap interval has no width
    assert p['iou_gain']['mean'] == pytest.approx(gain, abs=1e-9)
    assert p['iou_gain']['lo'] == pytest.approx(gain, abs=1e-9) and p['iou_gain']['hi'] == pytest.approx(gain, abs=1e-9)
    assert p['angle_change_deg']['mean'] == pytest.approx(-2.0, abs=1e-9)


def test_bootstrap_ci_is_seeded_and_covers_the_cluster_spread():
    rng = np.random.default_rng(5)
    n_img, per = 200, 5
    img_effect = rng.normal(0, 1.0, n_img)  # correlated objects inside an image
    v = np.repeat(img_effect, per) + rng.normal(0, 0.1, n_img * per)
    groups = np.repeat(np.arange(n_img), per)
    r1, r2 = bootstrap_mean_ci(v, groups, 2000, seed=3), bootstrap_mean_ci(v, groups, 2000, seed=3)
    assert r1 == r2 and r1['groups'] == n_img and r1['n'] == n_img * per
    # the CI must reflect the 200 independent images, not the 1000 objects: half-width ≈ 1.96 · sd(image means) / √200
    se = np.std(v.reshape(n_img, per).mean(1), ddof=1) / np.sqrt(n_img)
    assert (r1['hi'] - r1['lo']) / 2 == pytest.approx(1.96 * se, rel=0.15)
    assert r1['lo'] < r1['mean'] < r1['hi']
    assert bootstrap_mean_ci(np.array([np.nan]), np.array([0]))['mean'] is None


def _one_of_each():
    """Classes 0, 1. Objects: A(0) found, B(1) found only with class 0 (cls), C(0) badly localised
    (loc), D(1) found, and overlapped by a class-0 box at IoU ~0.3 (both), E(1) missed, F(0) found
    last (so that every false positive before it costs precision).
    Extra: a second box on A (dupe) and one far from everything (bkg)."""
    A, B, C, Dd, E, F = ((50, 50, 40, 16, 0.3), (150, 50, 40, 16, -0.4), (250, 50, 40, 16, 1.0),
                         (50, 150, 40, 16, 0.7), (250, 250, 40, 16, 0.0), (150, 150, 40, 16, 0.0))
    g = np.array([A, B, C, Dd, E, F])
    gts = {'s': dict(bboxes=rbox2poly_np(g), labels=np.array([0, 1, 0, 1, 1, 0]))}
    boxes = np.array([(51, 50, 40, 16, 0.31),      # TP on A
                      (150, 51, 40, 16, -0.42),    # cls: on B, class 0
                      (262, 56, 40, 16, 1.0),      # loc: C at IoU ~0.3
                      (50, 51, 40, 15, 0.29),      # dupe of A
                      (400, 400, 20, 20, 0.0),     # bkg
                      (50, 161, 40, 16, 0.7),      # both: class 0 on D at IoU ~0.3
                      (50, 150, 40, 16, 0.7),      # TP on D (class 1)
                      (150, 150, 40, 16, 0.0)])    # TP on F
    dets = {'s': dict(bboxes=boxes, scores=np.array([.95, .9, .85, .8, .75, .7, .6, .5]),
                      labels=np.array([0, 0, 0, 0, 0, 0, 1, 0]))}
    return gts, dets, g


def test_each_error_kind_on_a_constructed_scene():
    gts, dets, g = _one_of_each()
    for k in (2, 5):  # the loc / both boxes really sit in (0.1, 0.5) IoU with their object
        gi = 2 if k == 2 else 3
        dp, gp = _poly(dets['s']['bboxes'][k]), _poly(g[gi])
        iou = dp.intersection(gp).area / dp.union(gp).area
        assert 0.1 < iou < 0.5
    ev = evaluate_model('m', dets, gts, ['s'], ['c0', 'c1'], mode='area')
    info = classify_errors(ev)
    assert list(info['det_type']) == ['tp', 'cls', 'loc', 'dupe', 'bkg', 'both', 'tp', 'tp']
    assert list(np.flatnonzero(info['missed'])) == [4]  # only E: B and C can be taken over by a fix
    br = error_breakdown(ev)
    assert br['counts'] == dict(cls=1, loc=1, both=1, dupe=1, bkg=1, missed=1)
    base = eval_map([_polys(dets['s'])], [gts['s']], 2, mode='area').map
    assert br['ap'] == pytest.approx(base, abs=1e-12) == pytest.approx(ev.result.map_at(0.5), abs=1e-12)
    # each fix done by hand on the inputs and re-scored by the scorer
    for kind, fixed_det, fixed_gt in _hand_fixes(dets['s'], gts['s'], g):
        want = eval_map([_polys(fixed_det)], [fixed_gt], 2, mode='area').map - base
        assert br['dap'][kind] == pytest.approx(want, abs=1e-12), kind
        assert want > 0, kind  # every error costs AP in this scene


def _polys(d):
    return dict(bboxes=rbox2poly_np(d['bboxes']), scores=d['scores'], labels=d['labels'])


def _hand_fixes(d, gt, g):
    def drop(k):
        keep = np.arange(len(d['scores'])) != k
        return {key: v[keep] for key, v in d.items()}

    cls = {key: v.copy() for key, v in d.items()}
    cls['labels'][1] = 1
    cls['bboxes'][1] = g[1]
    loc = {key: v.copy() for key, v in d.items()}
    loc['bboxes'][2] = g[2]
    keep = np.arange(len(gt['labels'])) != 4
    no_e = dict(bboxes=gt['bboxes'][keep], labels=gt['labels'][keep])
    return [('cls', cls, gt), ('loc', loc, gt), ('dupe', drop(3), gt), ('bkg', drop(4), gt),
            ('both', drop(5), gt), ('missed', d, no_e)]


def test_two_errors_on_one_free_object_only_the_best_is_fixed():
    g = np.array([(100, 100, 40, 16, 0.2)])
    gts = {'s': dict(bboxes=rbox2poly_np(g), labels=np.array([0]))}
    far = np.array([(112, 106, 40, 16, 0.2), (88, 94, 40, 16, 0.2), (300, 300, 10, 10, 0)])
    dets = {'s': dict(bboxes=far, scores=np.array([.9, .8, .95]), labels=np.array([0, 0, 0]))}
    ev = evaluate_model('m', dets, gts, ['s'], ['c0'], mode='area')
    assert list(classify_errors(ev)['det_type']) == ['loc', 'loc', 'bkg']
    br = error_breakdown(ev)
    fixed = dict(bboxes=np.array([g[0], far[2]]), scores=np.array([.9, .95]), labels=np.array([0, 0]))
    want = eval_map([_polys(fixed)], [gts['s']], 1, mode='area').map - br['ap']
    assert br['dap']['loc'] == pytest.approx(want, abs=1e-12) and want > 0


def _brute_types(gts, dets, images, ev):
    """TIDE's order per false positive with shapely IoU, written from the paper's definitions."""
    m = ev.matches
    tp, ign = ev.tp_mask(0.5), m.ignored[0]
    used = {(images[m.gt_img[j]], m.gt_idx[j]) for j in m.best_gt[tp]}
    out = []
    for f in range(len(m.det_label)):
        if tp[f] or ign[f]:
            out.append('tp' if tp[f] else 'ignored')
            continue
        i, k = images[m.det_img[f]], m.det_idx[f]
        dp = shapely.Polygon(rbox2poly_np(dets[i]['bboxes'][k:k + 1])[0].reshape(4, 2))
        lab = dets[i]['labels'][k]
        rows = []
        for j, (poly, gl) in enumerate(zip(gts[i]['bboxes'], gts[i]['labels'])):
            gp = shapely.Polygon(np.reshape(poly, (4, 2)))
            rows.append((dp.intersection(gp).area / dp.union(gp).area, gl == lab, (i, j) in used))
        same = [r[0] for r in rows if r[1]]
        if same and 0.1 <= max(same) <= 0.5:
            out.append('loc')
        elif any(r[0] > 0.5 for r in rows if not r[1]):
            out.append('cls')
        elif any(r[0] > 0.5 for r in rows if r[1] and r[2]):
            out.append('dupe')
        elif max([r[0] for r in rows] + [0.0]) <= 0.1:
            out.append('bkg')
        else:
            out.append('both')
    return out


@pytest.mark.parametrize('seed', [0, 1])
def test_error_types_vs_brute_force(seed):
    gts, dets, _, _ = _scene(np.random.default_rng(seed), n_img=5)
    images = sorted(gts)
    ev = evaluate_model('m', dets, gts, images, ['a', 'b', 'c'])
    got = list(classify_errors(ev)['det_type'])
    want = _brute_types(gts, dets, images, ev)
    assert got == want
    assert len(set(want) - {'tp', 'ignored'}) >= 3  # the random scenes exercise several kinds
