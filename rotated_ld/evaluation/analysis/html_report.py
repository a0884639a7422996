"""One self-contained HTML page for a model's results: metric table, PR curves, confusion matrix, error
breakdown, error statistics and sample pictures; every image embedded as a base64 ``data:`` URI, no
script, no external file — it opens offline in any browser and can be mailed as one file.
"""
from __future__ import annotations

import base64
import html
import io
import os
import os.path as osp
from typing import Sequence

import cv2
import numpy as np
from mmengine.registry import init_default_scope

from ..functional.confusion import ImageDets, ImageGts, confusion_matrix
from . import plots
from .compare import score_result_sets
from .errors import ERROR_TYPES, error_breakdown
from .evaluate import ModelEval, to_scorer_boxes
from .gallery import as_polys
from .stats import summarise, tp_stats

__all__ = ['png_data_uri', 'jpeg_data_uri', 'model_report_html', 'sample_pictures', 'confusion_for']

_CSS = ('body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}'
        'table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #bbb;padding:3px 8px;'
        'text-align:right}th{background:#eee}td:first-child,th:first-child{text-align:left}'
        'img{max-width:100%;margin:4px 0}figure{display:inline-block;margin:4px;vertical-align:top}'
        'figcaption{font-size:small;color:#555}.note{color:#555;font-size:small}')


def png_data_uri(draw) -> str:
    """``data:image/png;base64,...`` of the figure ``draw(file)`` writes (a plots function taking ``out``)."""
    buf = io.BytesIO()
    draw(buf)
    return 'data:image/png;base64,' + base64.b64encode(buf.getvalue()).decode('ascii')


def jpeg_data_uri(rgb: np.ndarray, quality: int = 88) -> str:
    """``data:image/jpeg;base64,...`` of an RGB uint8 image."""
    ok, enc = cv2.imencode('.jpg', np.ascontiguousarray(rgb[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError('cannot encode the picture as JPEG')
    return 'data:image/jpeg;base64,' + base64.b64encode(enc.tobytes()).decode('ascii')


def confusion_for(ev: ModelEval, score_thr: float = 0.3, iou_thr: float = 0.5) -> np.ndarray:
    """Confusion matrix (:func:`~rotated_ld.evaluation.functional.confusion_matrix`, mmdet rules) of ``ev``."""
    m = ev.matches
    det_s, gt_s = to_scorer_boxes(ev.det_boxes, ev.kind), to_scorer_boxes(ev.gt_boxes, ev.kind)
    dets, gts = [], []
    for i in range(len(ev.images)):
        d, g = m.det_img == i, m.gt_img == i
        dets.append(ImageDets(det_s[d], m.det_score[d], m.det_label[d]))
        gts.append(ImageGts(gt_s[g], m.gt_label[g], m.gt_difficult[g]))
    return confusion_matrix(dets, gts, len(ev.result.classes), score_thr, iou_thr)


def sample_pictures(ev: ModelEval, image_paths: dict, n: int = 4, score_thr: float = 0.3,
                    max_side: int = 900) -> list[tuple[str, np.ndarray]]:
    """``n`` pictures (images with the most objects first): ground truth green, detections ≥ ``score_thr``
    in class colours with scores. Images without a file are skipped."""
    # local: the visualizer imports torch; evaluation.analysis stays torch-free
    from rotated_ld.visualization.local_visualizer import DetLocalVisualizer

    m = ev.matches
    counts = np.bincount(m.gt_img, minlength=len(ev.images)) if len(m.gt_img) else np.zeros(len(ev.images), int)
    out = []
    for i in np.argsort(-counts, kind='stable'):
        stem = ev.images[i]
        path = image_paths.get(stem)
        img = cv2.imread(path) if path else None
        if img is None:
            continue
        rgb = img[..., ::-1]
        scale = min(1.0, max_side / max(rgb.shape[:2]))
        vis = DetLocalVisualizer(name=f'report-{stem}-{id(ev)}')
        vis.set_image(rgb)
        g = m.gt_img == i
        vis.draw_polygons(as_polys(ev.gt_boxes[g]), edge_colors=[(40, 200, 40)] * int(g.sum()))
        d = (m.det_img == i) & (m.det_score >= score_thr)
        drawn = vis.draw_instances(vis.get_image(), dict(bboxes=ev.det_boxes[d], labels=m.det_label[d],
                                                         scores=m.det_score[d]), ev.result.classes)
        if scale < 1:
            drawn = cv2.resize(drawn, (int(drawn.shape[1] * scale), int(drawn.shape[0] * scale)),
                               interpolation=cv2.INTER_AREA)
        out.append((f'{stem}: {int(g.sum())} objects (green), {int(d.sum())} detections ≥ {score_thr}', drawn))
        if len(out) >= n:
            break
    return out


def _table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    esc = html.escape
    head = ''.join(f'<th>{esc(str(h))}</th>' for h in header)
    body = ''.join('<tr>' + ''.join(f'<td>{esc(str(c))}</td>' for c in r) + '</tr>' for r in rows)
    return f'<table><tr>{head}</tr>{body}</table>'


def _f(x, scale=100.0, digits=1) -> str:
    return '–' if x is None else f'{x * scale:.{digits}f}'


def model_report_html(ev: ModelEval, image_paths: dict | None = None, title: str | None = None,
                      score_thr: float = 0.3, n_samples: int = 4, square_ratio: float = 1.2,
                      notes: Sequence[str] = ()) -> str:
    """The HTML page (module docstring) for one scored model."""
    res = ev.result
    summ = ev.summary()
    stats = tp_stats(ev, 0.5, square_ratio)
    ts = summarise(stats, res.classes)
    err = error_breakdown(ev)
    cm = confusion_for(ev, score_thr)
    title = title or f'{ev.name}: detection report'
    esc = html.escape
    parts = [f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{esc(title)}</title>'
             f'<style>{_CSS}</style></head><body><h1>{esc(title)}</h1>']
    parts.append(f'<p>{len(ev.images)} images, {int(res.num_gts.sum())} objects, {int(res.num_dets.sum())} detections; '
                 f'{esc(ev.kind)} boxes; AP in %, the scorer\'s matching (DOTA_devkit / VOC rules).</p>')
    for n in notes:
        parts.append(f'<p class="note">{esc(n)}</p>')
    parts.append('<h2>Metrics</h2>')
    rows = [['all', int(res.num_gts.sum()), int(res.num_dets.sum()), _f(summ['AP50']), _f(summ['AP75']),
             _f(summ['mAP'])]]
    rows += [[c, v['gts'], v['dets'], _f(v['AP50']), _f(v['AP75']), _f(v['mAP'])] for c, v in summ['classes'].items()]
    parts.append(_table(['class', 'objects', 'detections', 'AP50', 'AP75', 'mAP@[.5:.95]'], rows))
    curves = {c: res.curves[k] for k, c in enumerate(res.classes) if res.valid[k] and res.curves[k] is not None}
    parts.append('<h2>Precision–recall (IoU 0.5)</h2>')
    parts.append(f'<img alt="PR curves" src="{png_data_uri(lambda f: plots.plot_pr_curves(curves, f))}">')
    parts.append(f'<h2>Confusion matrix (score ≥ {score_thr}, IoU ≥ 0.5, mmdet rules)</h2>')
    parts.append(f'<img alt="confusion matrix" src="'
                 f'{png_data_uri(lambda f: plots.plot_confusion_matrix(cm, res.classes, f, score_thr, 0.5))}">')
    parts.append('<h2>Error breakdown (TIDE-style, AP50 points lost to each error type)</h2>')
    parts.append(_table(['', *ERROR_TYPES], [['ΔAP50', *[f'{err["dap"][t] * 100:.2f}' for t in ERROR_TYPES]],
                                             ['count', *[err['counts'][t] for t in ERROR_TYPES]]]))
    dap = {ev.name: {t: err['dap'][t] * 100 for t in ERROR_TYPES}}
    parts.append(f'<img alt="error breakdown" src="{png_data_uri(lambda f: plots.plot_error_bars(dap, f))}">')
    parts.append('<p class="note">cls: right place, wrong class; loc: right class, 0.1 ≤ IoU, no match; both: '
                 'wrong class and place; dupe: object already taken; bkg: IoU ≤ 0.1 with everything; missed: '
                 'objects nothing could match. Each type fixed alone and re-scored (docs/analysis.md).</p>')
    parts.append('<h2>Matched objects (TP at IoU 0.5): error statistics</h2>')
    keys = [('iou', 'IoU'), ('centre_px', 'centre err (px)'), ('centre_rel', 'centre err / √area'),
            ('size_err', 'size err (rel.)'), ('angle_err_deg', 'angle err (°)')]
    srows = [[lab, ts['all'][k]['n'], _f(ts['all'][k]['mean'], 1, 3), _f(ts['all'][k]['median'], 1, 3),
              _f(ts['all'][k]['p90'], 1, 3)] for k, lab in keys]
    parts.append(_table(['statistic', 'n', 'mean', 'median', 'p90'], srows))
    parts.append(f'<img alt="IoU CDF" src="{png_data_uri(lambda f: plots.plot_cdfs({ev.name: stats.iou}, "IoU", f))}">')
    if ev.kind == 'rotated':
        deg = {ev.name: np.degrees(stats.angle_err)}
        parts.append(f'<img alt="angle error CDF" src="'
                     f'{png_data_uri(lambda f: plots.plot_cdfs(deg, "angle error (°)", f))}">')
    samples = sample_pictures(ev, image_paths or {}, n_samples, score_thr) if n_samples > 0 else []
    parts.append('<h2>Sample pictures</h2>')
    if not samples:
        parts.append('<p class="note">no image files found for the scored images</p>')
    for cap, rgb in samples:
        parts.append(f'<figure><img alt="{esc(cap)}" src="{jpeg_data_uri(rgb)}"><figcaption>{esc(cap)}</figcaption>'
                     '</figure>')
    parts.append('</body></html>')
    return '\n'.join(parts)


def write_report(results: str, gt, out_html: str, classes: Sequence[str] | None = None, split: str = 'auto',
                 merge: bool = False, img_dir: str | None = None, score_thr: float = 0.3, n_samples: int = 4,
                 cfg_options: Sequence[str] = (), title: str | None = None, log=print) -> str:
    """Score ``results`` (a test.py dump or a Task1 folder) on ``gt`` (labelTxt folder, config file or
    Config) and write the HTML page to ``out_html``; returns its path."""
    name = osp.splitext(osp.basename(osp.normpath(results)))[0]
    (ev,), img_paths = score_result_sets([(name, results)], gt, classes, split, merge, img_dir,
                                         cfg_options=cfg_options, log=log)
    page = model_report_html(ev, img_paths, title or f'{name}: detection report', score_thr, n_samples,
                             notes=[f'results: {results}', f'ground truth: {gt if isinstance(gt, str) else "config"}'])
    os.makedirs(osp.dirname(osp.abspath(out_html)), exist_ok=True)
    with open(out_html, 'w', encoding='utf-8') as f:
        f.write(page)
    return out_html


def config_report_source(cfg) -> tuple:
    """``(gt, classes, merge)`` for a report on a config's test set: the DOTAMetric ``gt_dir`` of full scenes
    (merged patches) when the test evaluator has one, else the config's labelled test dataset."""
    evs = cfg.get('test_evaluator') or []
    for ev in (evs if isinstance(evs, (list, tuple)) else [evs]):
        if isinstance(ev, dict) and ev.get('type') == 'DOTAMetric' and ev.get('merge_patches') and ev.get('gt_dir'):
            # local: the registry imports torch (only a config's dataset needs it)
            from rotated_ld.registry import DATASETS

            init_default_scope(cfg.get('default_scope', 'rotated_ld'))
            ds = DATASETS.build(cfg.test_dataloader.dataset)
            return ev['gt_dir'], tuple(ds.metainfo['classes']), True
    return cfg, None, False
