"""Patch merge: a synthetic scene is cut into windows, each patch's GT fed back as detections
(score 1, named by patch name), merged, and the full image scores mAP 1.0 (< 3 s CPU)."""
import numpy as np
import pytest
import shapely
import torch

from rotated_ld.datasets.dota_patch_name import format_patch_name
from rotated_ld.evaluation.functional import eval_map, merge_results, nms_polygons, rbox2poly_np
from rotated_ld.structures.bbox import poly2rbox


def make_scene(rng, size=1800, n=120):
    """Non-overlapping rotated objects (long side <= 120 < gap) with 15 classes."""
    boxes, polys = [], []
    while len(boxes) < n:
        b = np.array([rng.uniform(20, size - 20), rng.uniform(20, size - 20), rng.uniform(15, 120),
                      rng.uniform(8, 60), rng.uniform(-np.pi / 2, np.pi / 2)])
        p = shapely.Polygon(rbox2poly_np(b[None])[0].reshape(4, 2))
        if not shapely.box(0, 0, size, size).contains(p) or any(p.distance(q) < 2 for q in polys):
            continue
        boxes.append(b)
        polys.append(p)
    return np.array(boxes), rng.integers(0, 15, n)


def cut(boxes, labels, image='P0007', size=1800, win=512, gap=128, rate=1.0, iof_thr=0.7):
    """Windows over the (rescaled) scene; objects clipped to the window, kept when iof >= iof_thr."""
    names, results, n_cut = [], [], 0
    polys = rbox2poly_np(boxes) * rate
    scaled = size * rate
    step = win - gap
    starts = list(range(0, max(int(scaled) - win, 0) + 1, step))
    if starts[-1] + win < scaled:
        starts.append(int(scaled) - win)
    for y in starts:
        for x in starts:
            w = shapely.box(x, y, x + win, y + win)
            out, labs = [], []
            for p, lab in zip(polys, labels):
                poly = shapely.Polygon(p.reshape(4, 2))
                inter = poly.intersection(w)
                if inter.area < 1e-6 or inter.area / poly.area < iof_thr:
                    continue
                if inter.area < poly.area - 1e-6:  # cut by the window border: min-area rectangle
                    n_cut += 1
                    q = np.asarray(inter.minimum_rotated_rectangle.exterior.coords)[:4].reshape(8)
                else:
                    q = p
                out.append(q - np.tile([x, y], 4))
                labs.append(lab)
            polys_t = torch.as_tensor(np.array(out).reshape(-1, 8))
            rb = poly2rbox(polys_t, 'le90').numpy() if len(out) else np.zeros((0, 5))
            names.append(format_patch_name(image, x, y, size=win, rate=rate))
            results.append(dict(bboxes=rb, scores=np.ones(len(rb)), labels=np.array(labs, int)))
    return names, results, n_cut


@pytest.mark.parametrize('rate', [1.0, 0.5])
def test_merge_of_patch_ground_truth_scores_map_1(rate):
    rng = np.random.default_rng(0)
    boxes, labels = make_scene(rng)
    names, results, n_cut = cut(boxes, labels, rate=rate, win=512 if rate == 1 else 384, gap=128 if rate == 1 else 64)
    assert n_cut > 5  # some objects were cut by patch borders
    merged, stats = merge_results(names, results, iou_thr=0.1)
    assert list(merged) == ['P0007'] and stats['images'] == 1 and stats['patches'] == len(names)
    assert stats['dets_in'] == stats['dets_out'] + stats['suppressed'] and stats['suppressed'] > 0
    m = merged['P0007']
    assert stats['dets_out'] == len(boxes) == len(m['scores'])
    det = dict(bboxes=rbox2poly_np(m['bboxes']), scores=m['scores'], labels=m['labels'])
    res = eval_map([det], [dict(bboxes=rbox2poly_np(boxes), labels=labels)], 15)
    assert res.map == 1.0


def test_merge_offsets_rate_and_polygons():
    rb = np.array([[10.0, 20.0, 8.0, 4.0, 0.3]])
    out, st = merge_results(['S__0.5__100___50'], [dict(bboxes=rb, scores=[0.7], labels=[2])])
    np.testing.assert_allclose(out['S']['bboxes'], [[220.0, 140.0, 16.0, 8.0, 0.3]])
    poly = rbox2poly_np(rb)
    out_p, _ = merge_results(['S__1024__100___50'], [dict(bboxes=poly, scores=[0.7], labels=[2])])
    np.testing.assert_allclose(out_p['S']['bboxes'], poly + np.tile([100, 50], 4))
    # empty patches still create their image; no NMS keeps everything
    out, st = merge_results(['A__1024__0___0', 'B__1024__0___0'],
                            [dict(bboxes=np.zeros((0, 5)), scores=[], labels=[]),
                             dict(bboxes=np.vstack([rb, rb]), scores=[0.5, 0.4], labels=[0, 0])], nms=False)
    assert len(out['A']['scores']) == 0 and len(out['B']['scores']) == 2 and st['suppressed'] == 0
    with pytest.raises(ValueError, match='not a DOTA patch name'):
        merge_results(['P0000_1024_0_0'], [dict(bboxes=rb, scores=[1.0], labels=[0])])


def test_nms_per_class_and_image_threshold():
    p = np.array([[0, 0, 10, 0, 10, 10, 0, 10], [1, 0, 11, 0, 11, 10, 1, 10], [1, 0, 11, 0, 11, 10, 1, 10],
                  [8, 0, 18, 0, 18, 10, 8, 10]], float)
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    groups = np.array([0, 0, 1, 0])  # box 2 is another class: not suppressed by box 0
    # IoU(0, 1) = 90 / 110, IoU(0, 3) = 20 / 180 = 0.111: suppressed at 0.1 (devkit 'IoU > thr')
    assert nms_polygons(p, scores, groups, 0.1).tolist() == [0, 2]
    assert nms_polygons(p, scores, groups, 0.12).tolist() == [0, 3, 2]  # order: group, then score


def test_numpy_nms_matches_ops_nms():
    from rotated_ld.evaluation.functional.merge import _nms_rboxes

    rng = np.random.default_rng(5)
    n = 150
    rb = np.stack([rng.uniform(0, 200, n), rng.uniform(0, 200, n), rng.uniform(10, 50, n), rng.uniform(5, 30, n),
                   rng.uniform(-1.5, 1.5, n)], 1)
    scores, groups = rng.random(n), rng.integers(0, 3, n)
    for thr in (0.1, 0.5):
        a = _nms_rboxes(rb, scores, groups, thr, 'numpy')
        b = _nms_rboxes(rb, scores, groups, thr, 'ops')
        assert sorted(a.tolist()) == sorted(b.tolist())


def test_merge_after_the_project_split_tool(tmp_path):
    """Scene -> rotated_ld.datasets.split.split_image (rates 1.0 and 0.5, devkit rescale names) ->
    patch labels as detections -> merge -> full-image mAP 1.0 against the original labelTxt."""
    import os

    import cv2

    from rotated_ld.datasets.dota import DOTA_V1_0
    from rotated_ld.datasets.split.img_split import SplitConfig, split_image
    from rotated_ld.evaluation.functional import load_labeltxt, load_labeltxt_dir

    rng = np.random.default_rng(2)
    boxes, labels = make_scene(rng, size=1100, n=40)
    (tmp_path / 'img').mkdir()
    (tmp_path / 'lab').mkdir()
    cv2.imwrite(str(tmp_path / 'img' / 'P0042.png'), np.zeros((1100, 1100, 3), np.uint8))
    with open(tmp_path / 'lab' / 'P0042.txt', 'w') as f:
        for p, lab in zip(rbox2poly_np(boxes), labels):
            f.write(' '.join(f'{v:.4f}' for v in p) + f' {DOTA_V1_0[lab]} 0\n')
    out = tmp_path / 'split'
    for d in ('images', 'annfiles', '.split_done'):  # split_dataset creates these
        (out / d).mkdir(parents=True)
    cfg = SplitConfig(sizes=(512,), gaps=(128,), rates=(1.0, 0.5), rescale=True)
    stats = split_image(str(tmp_path / 'img' / 'P0042.png'), str(tmp_path / 'lab' / 'P0042.txt'), str(out), cfg)
    assert stats.truncated_out > 0 and stats.lost == 0
    c2i = {c: i for i, c in enumerate(DOTA_V1_0)}
    names, results = [], []
    for fname in sorted(os.listdir(out / 'annfiles')):
        a = load_labeltxt(str(out / 'annfiles' / fname), c2i)  # truncated objects come as difficult=2
        polys = np.concatenate([a['bboxes'], a['bboxes_ignore']])
        names.append(fname[:-4])
        results.append(dict(bboxes=polys, scores=np.ones(len(polys)),
                            labels=np.concatenate([a['labels'], a['labels_ignore']])))
    assert any('__0.5__' in n for n in names) and any('__512__' in n for n in names)
    merged, mstats = merge_results(names, results)
    assert mstats['dets_out'] == len(boxes)
    gts = load_labeltxt_dir(str(tmp_path / 'lab'), DOTA_V1_0)
    m = merged['P0042']
    res = eval_map([m], [gts['P0042']], DOTA_V1_0)
    assert res.map == 1.0
