"""Compare N models on one ground truth: the summary, the plots and the galleries behind
``tools/analysis_tools/compare_models.py`` (and the per-model parts of the HTML report).

All numbers in the summary are on a 0–1 scale except angles (degrees) and pixel distances.
"""
from __future__ import annotations

import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Sequence

import cv2
import numpy as np

from . import plots
from .errors import ERROR_TYPES, error_breakdown
from .evaluate import ModelEval, evaluate_model
from .gallery import A_COLOR, B_COLOR, crop_tile, grid
from .geometry import SIZE_BUCKETS
from .loading import find_images, load_ground_truth, load_result_set
from .paired import paired_objects, paired_summary
from .stats import summarise, tp_stats

__all__ = ['Comparison', 'compare_models', 'score_result_sets', 'write_plots', 'write_galleries', 'to_markdown']


def score_result_sets(results: Sequence[tuple[str, str]], gt: str, classes: Sequence[str] | None = None,
                      split: str = 'auto', merge: bool = False, img_dir: str | None = None, strict: bool = True,
                      cfg_options: Sequence[str] = (), log=print) -> tuple[list, dict]:
    """Load ``[(name, path)]`` result sets and the ground truth ``gt`` (labelTxt folder or config) and
    score each (:func:`evaluate_model`); returns ``(evals, {image stem: image path})``.

    Result images without ground truth and ground-truth images without results are counted and logged;
    a result set sharing no image with the ground truth is a ``ValueError``.
    """
    gts, classes, img_paths = load_ground_truth(gt, classes, split, cfg_options)
    images = sorted(gts)
    log(f'ground truth: {len(images)} images, {sum(len(g["labels"]) for g in gts.values())} objects '
        f'(+{sum(len(g.get("labels_ignore", ())) for g in gts.values())} ignored), {len(classes)} classes')
    evals = []
    for name, path in results:
        dets, paths = load_result_set(path, classes, images, merge=merge)
        extra = sorted(set(dets) - set(gts))
        absent = len(set(images) - set(dets))
        if extra and len(extra) == len(dets):
            raise ValueError(f'{name}: none of the {len(dets)} result images is in the ground truth '
                             f'(first: {extra[0]}){"; patches? add --merge" if not merge else ""}')
        if extra:
            log(f'{name}: {len(extra)} result images have no ground truth and are not scored (first: {extra[0]})')
        if absent:
            log(f'{name}: no results for {absent} of {len(images)} images (scored as no detections)')
        for k, v in paths.items():
            img_paths.setdefault(k, v)
        evals.append(evaluate_model(name, {k: v for k, v in dets.items() if k in gts}, gts, images, classes,
                                    strict=strict))
    if img_dir:
        img_paths.update(find_images(img_dir, images))
    return evals, img_paths


@dataclass
class Comparison:
    """Everything computed for :func:`compare_models`: ``summary`` is JSON-ready."""

    evals: list
    stats: list
    pairs: list
    summary: dict
    errors: list = field(default_factory=list)


def compare_models(evals: Sequence[ModelEval], pairs: Sequence[tuple[int, int]] = (), square_ratio: float = 1.2,
                   n_boot: int = 2000, seed: int = 0, buckets=SIZE_BUCKETS, strict: bool = True,
                   log=print) -> Comparison:
    """Per-model metrics, TP statistics and TIDE errors; paired ``B − A`` views for ``pairs`` (indices)."""
    summary = dict(rules=dict(
        matching='eval_map: score order, best-IoU object of the class, one-to-one, '
                 + ('IoU > thr (DOTA devkit)' if strict else 'IoU >= thr (VOC)'),
        tp_iou=0.5, angle_symmetry=f'pi (long side) when L/S >= {square_ratio}, else pi/2 (near-square)',
        size_buckets={n: [lo, None if np.isinf(hi) else hi] for n, lo, hi in buckets},
        bootstrap=dict(over='images', n=n_boot, seed=seed, level=0.95),
        tide=dict(t_f=0.5, t_b=0.1)), models={}, paired={})
    stats, errors = [], []
    for ev in evals:
        log(f'analysing {ev.name}: {len(ev.matches.det_label)} detections on {len(ev.images)} images')
        s = tp_stats(ev, 0.5, square_ratio, buckets)
        e = error_breakdown(ev, strict=strict)
        stats.append(s)
        errors.append(e)
        summary['models'][ev.name] = dict(metrics=ev.summary(), tp_stats=summarise(s, ev.result.classes, buckets),
                                          errors=dict(ap50=e['ap'], counts=e['counts'], dap=e['dap']))
    for ia, ib in pairs:
        a, b = evals[ia], evals[ib]
        key = f'{b.name} - {a.name}'
        p = paired_summary(stats[ia], stats[ib], n_boot, seed)
        p['mAP_diff'] = b.summary()['mAP'] - a.summary()['mAP']
        p['AP50_diff'] = b.summary()['AP50'] - a.summary()['AP50']
        summary['paired'][key] = p
    return Comparison(evals=list(evals), stats=stats, pairs=list(pairs), summary=summary, errors=errors)


def write_plots(cmp: Comparison, out_dir: str) -> dict:
    """PNG plots into ``out_dir``; returns ``{title: path}``."""
    os.makedirs(out_dir, exist_ok=True)
    out = {}
    names = [ev.name for ev in cmp.evals]

    def path(name):
        out[name] = osp.join(out_dir, f'{name}.png')
        return out[name]

    plots.plot_cdfs({n: s.iou for n, s in zip(names, cmp.stats)}, 'IoU of matched objects', path('iou_cdf'),
                    'IoU of true positives (IoU > 0.5)')
    if any(ev.kind == 'rotated' for ev in cmp.evals):
        plots.plot_cdfs({n: np.degrees(s.angle_err) for n, s in zip(names, cmp.stats)}, 'angle error (degrees)',
                        path('angle_error_cdf'), 'angle error of true positives (modulo box symmetry)')
    plots.plot_cdfs({n: s.centre_rel for n, s in zip(names, cmp.stats)}, 'centre error / sqrt(object area)',
                    path('centre_error_cdf'), 'centre error of true positives')
    models = cmp.summary['models']
    plots.plot_class_bars({n: {c: v['AP50'] * 100 for c, v in models[n]['metrics']['classes'].items()} for n in names},
                          'AP50', path('class_ap50'), 'AP50 per class')
    plots.plot_class_bars({n: {c: v['iou']['mean'] for c, v in models[n]['tp_stats']['classes'].items()
                               if v['iou']['mean'] is not None} for n in names},
                          'mean IoU of TPs', path('class_mean_iou'), 'mean IoU of true positives per class')
    plots.plot_pr_curves({n: _pooled_pr(ev) for n, ev in zip(names, cmp.evals)}, path('pr_curves'),
                         'PR curves, all classes pooled (IoU 0.5)')
    plots.plot_error_bars({n: {t: e['dap'][t] * 100 for t in ERROR_TYPES} for n, e in zip(names, cmp.errors)},
                          path('error_breakdown'))
    for ia, ib in cmp.pairs:
        a, b = cmp.evals[ia], cmp.evals[ib]
        p = paired_objects(cmp.stats[ia], cmp.stats[ib])
        tag = f'{b.name}_vs_{a.name}'
        plots.plot_paired_hist(p['iou_b'] - p['iou_a'], f'IoU({b.name}) − IoU({a.name})', path(f'iou_gain_{tag}'),
                               'per-object IoU gain on objects both found')
        if a.kind == 'rotated':
            plots.plot_paired_hist(np.degrees(p['angle_b'] - p['angle_a']), 'angle error change (degrees)',
                                   path(f'angle_change_{tag}'), f'angle error {b.name} − {a.name} per object')
    return out


def _pooled_pr(ev: ModelEval):
    """Precision / recall over all classes pooled, at IoU 0.5 (TPs and FPs of every class by score)."""
    m = ev.matches
    keep = ~m.ignored[0]
    o = np.argsort(-m.det_score[keep], kind='stable')
    tp = m.tp[0][keep][o]
    npos = int(ev.result.num_gts.sum())
    if not len(tp) or not npos:
        return None
    ctp = np.cumsum(tp)
    return ctp / npos, ctp / np.arange(1, len(tp) + 1)


def write_galleries(cmp: Comparison, image_paths: dict, out_dir: str, k: int = 8, log=print) -> dict:
    """For each pair, the ``k`` objects where B's IoU improved most and where it got worst (JPEGs)."""
    out = {}
    for ia, ib in cmp.pairs:
        a, b = cmp.evals[ia], cmp.evals[ib]
        p = paired_objects(cmp.stats[ia], cmp.stats[ib])
        gain = p['iou_b'] - p['iou_a']
        order = np.argsort(-gain, kind='stable')
        missing = set()
        for what, sel in (('improved', order[:k]), ('worse', order[::-1][:k])):
            tiles = []
            for j in sel:
                if what == 'improved' and gain[j] <= 0 or what == 'worse' and gain[j] >= 0:
                    continue
                stem = a.images[p['image'][j]]
                path = image_paths.get(stem)
                img = cv2.imread(path) if path else None
                if img is None:
                    missing.add(stem)
                    continue
                ang = '' if a.kind != 'rotated' else \
                    f' ang {np.degrees(p["angle_a"][j]):.0f}>{np.degrees(p["angle_b"][j]):.0f}'
                tiles.append(crop_tile(img[..., ::-1], a.gt_boxes[p['gt'][j]],
                                       [(a.det_boxes[p['det_a'][j]], A_COLOR), (b.det_boxes[p['det_b'][j]], B_COLOR)],
                                       f'IoU {p["iou_a"][j]:.2f}>{p["iou_b"][j]:.2f}{ang}'))
            title = (f'{what}: {b.name} (blue) vs {a.name} (orange), ground truth green; '
                     f'{len(tiles)} of {len(p["gt"])} objects both found')
            fname = osp.join(out_dir, f'gallery_{b.name}_vs_{a.name}_{what}.jpg')
            os.makedirs(out_dir, exist_ok=True)
            cv2.imwrite(fname, grid(tiles, 4, title)[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
            out[f'{b.name} vs {a.name}: {what}'] = fname
        if missing:
            log(f'gallery {b.name} vs {a.name}: no image for {len(missing)} scenes (first: {sorted(missing)[0]}); '
                'give --img-dir')
    return out


def _fmt(x, scale=1.0, digits=1) -> str:
    return '–' if x is None else f'{x * scale:.{digits}f}'


def _ci(d: dict, scale=1.0, digits=3) -> str:
    if d['mean'] is None:
        return '–'
    return f'{d["mean"] * scale:+.{digits}f} [{d["lo"] * scale:+.{digits}f}, {d["hi"] * scale:+.{digits}f}]'


def to_markdown(summary: dict, plots: dict | None = None, galleries: dict | None = None) -> str:
    """The summary as a markdown page (tables + links to the plots)."""
    lines = ['# Model comparison', '', '## Metrics (AP in %, DOTA/VOC matching)', '',
             '| model | mAP@[.5:.95] | AP50 | AP75 | TPs | mean IoU | median centre err (px) | '
             'median size err | median angle err (°) |', '|---|---|---|---|---|---|---|---|---|']
    for name, m in summary['models'].items():
        t = m['tp_stats']['all']
        lines.append(f'| {name} | {_fmt(m["metrics"]["mAP"], 100)} | {_fmt(m["metrics"]["AP50"], 100)} | '
                     f'{_fmt(m["metrics"]["AP75"], 100)} | {t["iou"]["n"]} | {_fmt(t["iou"]["mean"], 1, 3)} | '
                     f'{_fmt(t["centre_px"]["median"], 1, 2)} | {_fmt(t["size_err"]["median"], 1, 3)} | '
                     f'{_fmt(t["angle_err_deg"]["median"], 1, 2)} |')
    names = list(summary['models'])
    classes = sorted({c for m in summary['models'].values() for c in m['metrics']['classes']})
    lines += ['', '## Per class (AP50 % / mean IoU of TPs / median angle error °)', '',
              '| class | ' + ' | '.join(names) + ' |', '|---|' + '---|' * len(names)]
    for c in classes:
        cells = []
        for n in names:
            m = summary['models'][n]
            ap = m['metrics']['classes'].get(c, {}).get('AP50')
            t = m['tp_stats']['classes'].get(c)
            cells.append(f'{_fmt(ap, 100)} / {_fmt(t["iou"]["mean"] if t else None, 1, 3)} / '
                         f'{_fmt(t["angle_err_deg"]["median"] if t else None, 1, 1)}')
        lines.append(f'| {c} | ' + ' | '.join(cells) + ' |')
    lines += ['', '## Per size bucket (TPs: count, mean IoU, median angle error °)', '',
              '| model | ' + ' | '.join(summary['rules']['size_buckets']) + ' |',
              '|---|' + '---|' * len(summary['rules']['size_buckets'])]
    for name, m in summary['models'].items():
        cells = [f'{b["iou"]["n"]}, {_fmt(b["iou"]["mean"], 1, 3)}, {_fmt(b["angle_err_deg"]["median"], 1, 1)}'
                 for b in m['tp_stats']['buckets'].values()]
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    lines += ['', '## Error breakdown (AP50 points lost to each error type, TIDE-style; count in brackets)', '',
              '| model | AP50 | ' + ' | '.join(ERROR_TYPES) + ' |', '|---|---|' + '---|' * len(ERROR_TYPES)]
    for name, m in summary['models'].items():
        e = m['errors']
        lines.append(f'| {name} | {_fmt(e["ap50"], 100)} | ' + ' | '.join(
            f'{e["dap"][t] * 100:.2f} ({e["counts"][t]})' for t in ERROR_TYPES) + ' |')
    if summary['paired']:
        lines += ['', '## Paired: objects found by both (B − A, mean [95% bootstrap CI over images])', '',
                  '| B − A | objects | only A | only B | IoU gain | angle error change (°) | '
                  'centre err change (rel.) | mAP diff | AP50 diff |', '|---|---|---|---|---|---|---|---|---|']
        for key, p in summary['paired'].items():
            lines.append(f'| {key} | {p["objects_both"]} | {p["only_a"]} | {p["only_b"]} | '
                         f'{_ci(p["iou_gain"], 1, 4)} | '
                         f'{_ci(p["angle_change_deg"], 1, 2)} | {_ci(p["centre_rel_change"], 1, 4)} | '
                         f'{p["mAP_diff"] * 100:+.1f} | {p["AP50_diff"] * 100:+.1f} |')
    r = summary['rules']
    lines += ['', '## Rules', '', f'- matching: {r["matching"]}; matched true positives at IoU > {r["tp_iou"]}',
              f'- angle error modulo the box symmetry: {r["angle_symmetry"]} (ground truth sides L ≥ S)',
              f'- bootstrap: {r["bootstrap"]["n"]} resamples of the images, seed {r["bootstrap"]["seed"]}',
              f'- TIDE thresholds: foreground {r["tide"]["t_f"]}, background {r["tide"]["t_b"]}']
    for title, items in (('Plots', plots), ('Galleries', galleries)):
        if items:
            lines += ['', f'## {title}', ''] + [f'![{k}]({osp.basename(v)})' for k, v in items.items()]
    return '\n'.join(lines) + '\n'
