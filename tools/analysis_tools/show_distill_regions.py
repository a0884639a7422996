"""Draw where an LD config distils: Main region, VLR (or Rotated-LD region) and imitation masks per FPN level.

The student head of CONFIG is built (no weights needed: assignment and regions depend on priors and
ground truth only) and its OWN region code is run on IMAGE with its ground truth:

Every LD head answers the same public call, ``head.distill_regions(flat, targets)`` (the LD engine,
``rotated_ld.models.distillers``), so this tool has no branch per head family:

* GFL LD heads (``LDHead``, configs/ld; ``RotatedLDHead``, configs/rotated_ld, configs/demo):
  Main = positives of the head's (rotated) ATSS assigner (``head.get_targets``); VLR = the
  distiller's ``VLRRegion`` with the assigner's thresholds, shaded by its weight (IoU with the GT);
  imitation masks (fitnet / ingt / finegrained / decouple foreground; ``gibox`` depends on
  predictions and needs ``--teacher-ckpt``);
* Rotated-LD RetinaNet (``RotatedLDRetinaHead``, configs/rotated_ld_retinanet): Main = positives of
  its max-IoU assigner; the distillation region of LD/KD (``RotatedLDRegion``: axis-aligned IoU ≥
  0.25·ATSS threshold, positives included), drawn in the VLR colour (JDet: the KD region, every
  labelled prior); 9 anchors per location, a location is coloured when any of its anchors is in.

One panel per FPN level plus a legend panel; counts of priors (anchors) per level are printed as
``P3 stride=8 featmap=HxW priors=N main=M vlr=V im=I`` (``region=`` instead of ``vlr=`` for
Rotated-LD). Ground truth: DOTA labelTxt (``--ann x.txt``, default ``../labelTxt/<stem>.txt`` next to
``images/``) or COCO json (``--ann instances.json``, the image found by file name); horizontal
heads get the polygons' enclosing boxes. docs/distill_regions.md explains the colours.

Examples:
    python tools/analysis_tools/show_distill_regions.py \\
        configs/demo/rotated-ld_r18-slim-rgfl-r18-slim-long_fpn_synthetic-dota_le90.py \\
        data/synthetic_dota/val/images/P0040.png --out regions.jpg
    python tools/analysis_tools/show_distill_regions.py configs/ld/im-finegrained_r50-gfl-r101_fpn_1x_coco.py \\
        img.jpg --ann annotations/instances_val2017.json --out regions.png
    python tools/analysis_tools/show_distill_regions.py configs/rotated_ld_retinanet/CFG.py scene.png \\
        --ann scene.txt --scale 0.75 --levels 0 1 2
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import os.path as osp
import sys
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))  # run from a checkout

from rotated_ld.utils.cli import add_debug_flag, cli_main  # noqa: E402  (torch-free)

# BGR colours (cv2)
COLORS = dict(main=(40, 40, 255), vlr=(255, 170, 0), im=(0, 230, 255), gt=(60, 255, 60),
              gt_poly=(40, 140, 40), text=(255, 255, 255))


@dataclass
class LevelRegions:
    """Regions of one FPN level. Per-prior tensors as numpy: ``n = H·W·A`` priors, level order."""
    name: str
    stride: int
    featmap: tuple
    num_base_priors: int
    centers: np.ndarray          # (H·W, 2) location centres (x, y), pixels of the network input
    main: np.ndarray             # (n,) bool
    vlr: Optional[np.ndarray]    # (n,) float weights (> 0 on the region) or None (not used)
    im: Optional[np.ndarray]     # (n,) bool or None

    def counts(self) -> dict:
        return dict(priors=int(self.main.size), main=int(self.main.sum()),
                    vlr=None if self.vlr is None else int((self.vlr > 0).sum()),
                    im=None if self.im is None else int(self.im.sum()))


@dataclass
class RegionResult:
    head_type: str
    family: str                  # 'gfl' | 'rotated_gfl' | 'retina'
    second_name: str             # 'VLR' or 'LD/KD region' / 'KD region'
    im_method: Optional[str]
    second_note: str = ''        # e.g. 'positives excluded'
    levels: list = field(default_factory=list)
    notes: list = field(default_factory=list)


# ---------------------------------------------------------------------------------------- building
def build_head(cfg):
    """The student ``bbox_head`` of ``cfg.model`` with the model's train/test cfg (as the detector does)."""
    from mmengine.registry import init_default_scope

    from rotated_ld.registry import MODELS

    init_default_scope(cfg.get('default_scope', 'rotated_ld'))
    model = cfg.model
    head_cfg = copy.deepcopy(dict(model.bbox_head))
    head_cfg.update(train_cfg=copy.deepcopy(model.get('train_cfg')), test_cfg=copy.deepcopy(model.get('test_cfg')))
    head = MODELS.build(head_cfg)
    head.eval()
    return head


def head_family(head) -> str:
    """``'gfl'`` | ``'rotated_gfl'`` | ``'retina'``: the export's head classification (one place decides)."""
    from rotated_ld.deployment.export import head_kind

    kind = head_kind(head)  # ValueError naming the supported heads otherwise
    return 'retina' if kind == 'rotated_retina' else kind


def config_classes(cfg) -> Optional[tuple]:
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds = (cfg.get(key) or {}).get('dataset') or {}
        while 'dataset' in ds:  # wrappers
            ds = ds['dataset']
        classes = (ds.get('metainfo') or {}).get('classes')
        if classes:
            return tuple(classes)
        if ds.get('type'):
            try:
                from rotated_ld.registry import DATASETS

                cls = DATASETS.get(ds['type'])
                classes = getattr(cls, 'METAINFO', {}).get('classes') if cls is not None else None
                if classes:
                    return tuple(classes)
            except Exception:  # noqa: BLE001  (class names only label the assignment)
                pass
    return None


# ---------------------------------------------------------------------------------------- ground truth
def default_ann_path(img_path: str) -> str:
    stem = osp.splitext(osp.basename(img_path))[0]
    d = osp.dirname(osp.abspath(img_path))
    for cand in (osp.join(osp.dirname(d), 'labelTxt', stem + '.txt'), osp.join(d, stem + '.txt')):
        if osp.isfile(cand):
            return cand
    raise FileNotFoundError(f'no label file for {img_path}: looked for ../labelTxt/{stem}.txt and {stem}.txt; '
                            'give --ann (DOTA labelTxt or COCO json)')


def load_gt(ann_path: str, img_path: str) -> tuple[np.ndarray, list]:
    """Polygons (G, 8) pixels and class names from DOTA labelTxt or COCO json."""
    if ann_path.endswith('.json'):
        with open(ann_path) as f:
            coco = json.load(f)
        name = osp.basename(img_path)
        img = [im for im in coco.get('images', []) if osp.basename(im['file_name']) == name]
        if not img:
            raise KeyError(f'{name} is not among the images of {ann_path}')
        cats = {c['id']: c['name'] for c in coco.get('categories', [])}
        polys, names = [], []
        for a in coco.get('annotations', []):
            if a['image_id'] != img[0]['id'] or a.get('iscrowd', 0):
                continue
            x, y, w, h = a['bbox']
            polys.append([x, y, x + w, y, x + w, y + h, x, y + h])
            names.append(cats.get(a['category_id'], str(a['category_id'])))
        return np.asarray(polys, np.float64).reshape(-1, 8), names
    from rotated_ld.datasets.dota_txt import parse_dota_txt

    ann = parse_dota_txt(ann_path, strict=False)
    return ann.polys, list(ann.labels)


def gt_instances_for(head, family: str, polys: np.ndarray, names: list, classes: Optional[tuple]):
    """``InstanceData`` with the box type the head trains on (xyxy or rbox in its angle version)."""
    import torch
    from mmengine.structures import InstanceData

    from rotated_ld.structures.bbox import poly2hbox, poly2rbox

    p = torch.as_tensor(polys, dtype=torch.float32).reshape(-1, 8)
    order = list(classes) if classes else sorted(set(names))
    labels = torch.as_tensor([order.index(n) % head.num_classes if n in order else 0 for n in names],
                             dtype=torch.long)
    gt = InstanceData()
    gt.bboxes = poly2hbox(p) if family == 'gfl' else poly2rbox(p, head.angle_version)
    gt.labels = labels
    return gt


# ---------------------------------------------------------------------------------------- regions
def level_strides(head) -> list[int]:
    return [int(s[0]) if isinstance(s, (tuple, list)) else int(s) for s in head.strides]


def featmap_sizes(head, img_shape: tuple, pad_size_divisor: int = 32) -> tuple[list, tuple]:
    """Feature-map sizes of the padded input (ResNet/FPN: ``ceil(padded / stride)``) and the padded shape."""
    d = max(int(pad_size_divisor or 1), 1)
    hp, wp = (int(math.ceil(v / d) * d) for v in img_shape[:2])
    return [(int(math.ceil(hp / s)), int(math.ceil(wp / s))) for s in level_strides(head)], (hp, wp)


def _zero_outputs(head, family: str, sizes: list):
    import torch

    outs_cls, outs_reg, outs_ang = [], [], []
    for h, w in sizes:
        if family == 'retina':
            outs_cls.append(torch.zeros(1, head.num_base_priors * head.num_classes, h, w))
            outs_reg.append(torch.zeros(1, head.num_base_priors * head.reg_channels, h, w))
        else:
            outs_cls.append(torch.zeros(1, head.num_classes, h, w))
            outs_reg.append(torch.zeros(1, 4 * (head.reg_max + 1), h, w))
            if family == 'rotated_gfl':
                outs_ang.append(torch.zeros(1, head.angle_coder.encode_size, h, w))
    return (outs_cls, outs_reg, outs_ang) if family == 'rotated_gfl' else (outs_cls, outs_reg)


def compute_regions(head, img_shape: tuple, gt, pad_size_divisor: int = 32, student_outs=None,
                    teacher_outs=None) -> RegionResult:
    """Run the head's own assignment / region / imitation code on one image.

    Args:
        head: a built (LD) head; ``head_family`` decides the path.
        img_shape (tuple): (H, W) of the network input.
        gt (InstanceData): ``bboxes`` in the head's box type, ``labels``.
        pad_size_divisor (int): the data preprocessor's padding.
        student_outs, teacher_outs: real head outputs (only the ``gibox`` imitation needs them);
            default zeros of the right shapes.
    """
    import torch

    family = head_family(head)
    sizes, pad = featmap_sizes(head, img_shape, pad_size_divisor)
    outs = student_outs if student_outs is not None else _zero_outputs(head, family, sizes)
    sizes = [tuple(int(v) for v in c.shape[-2:]) for c in outs[0]]
    meta = dict(img_shape=tuple(img_shape[:2]), ori_shape=tuple(img_shape[:2]), pad_shape=pad,
                batch_input_shape=pad, scale_factor=(1.0, 1.0))
    res = RegionResult(type(head).__name__, family, 'VLR', None)
    distiller = getattr(head, 'distiller', None)
    with torch.no_grad():
        if family == 'retina':
            flat = head.build_flat_outputs(*outs)
            targets = head.get_targets(flat.priors, [gt])
            A = head.num_base_priors
            pri = flat.priors[::A]  # (cx, cy, w, h, 0) rotated anchors or xyxy (RetinaGFLHead)
            centers = pri[:, :2] if pri.shape[-1] == 5 else (pri[:, :2] + pri[:, 2:]) / 2
        else:
            flat = head.build_flat_outputs(*outs)
            targets = head.get_targets(flat, [gt], [meta])
            centers, A = flat.priors[:, :2], 1
        main, nlp = targets.pos_mask[0], flat.num_level_priors
        vlr = im = None
        if distiller is None or not hasattr(head, 'distill_regions'):
            res.notes.append(f'{type(head).__name__} is not an LD head: only the assignment is shown')
        else:
            # the head's own region code, through its one public entry point
            kwargs = {'teacher_outs': teacher_outs} if distiller.imitation_method == 'gibox' else {}
            regions = head.distill_regions(flat, targets, **kwargs)
            if distiller.region is not None:  # published Rotated-LD rule: one region for LD and KD
                vlr, res.second_name = regions.main_weight, 'LD/KD region'
                res.second_note = f'axis-aligned IoU >= {distiller.region.alpha:g} thr, positives included'
            elif distiller.kd_region == 'labelled':  # JDet: LD on positives (= main), KD on every labelled prior
                vlr, res.second_name = regions.kd_mask.float(), 'KD region'
                res.second_note = 'every prior with label weight > 0; LD = main'
            else:
                vlr = regions.vlr_weight
                if vlr is None:
                    res.notes.append('no VLR term in this config (its weights are 0 or None)')
                vlr_cfg = next((d.vlr for d in (distiller, getattr(head, 'angle_distiller', None))
                                if d is not None and d.vlr is not None), None)
                if vlr_cfg is not None:
                    res.second_note = 'positives excluded' if vlr_cfg.exclude_pos else 'positives included'
            if distiller.imitation_method is not None:
                res.im_method = distiller.imitation_method
                im = regions.im_mask
                if im is None:
                    res.notes.append('gibox imitation depends on predictions: give --teacher-ckpt '
                                     '(and --checkpoint for a trained student); mask not drawn')
    start_p = start_c = 0
    strides = level_strides(head)
    for lvl, (n, hw) in enumerate(zip(nlp, sizes)):
        sl = slice(start_p, start_p + n)
        nloc = n // A
        res.levels.append(LevelRegions(
            name=f'P{lvl + 3}', stride=strides[lvl], featmap=hw, num_base_priors=A,
            centers=centers[start_c:start_c + nloc].cpu().numpy(),
            main=main[sl].cpu().numpy().astype(bool),
            vlr=None if vlr is None else vlr.reshape(-1)[sl].float().cpu().numpy(),
            im=None if im is None else im.reshape(-1)[sl].cpu().numpy().astype(bool)))
        start_p += n
        start_c += nloc
    return res


def format_counts(res: RegionResult) -> list[str]:
    key = 'vlr' if res.second_name == 'VLR' else 'region'
    lines = []
    tot = dict(priors=0, main=0, vlr=0, im=0)
    used = dict(vlr=False, im=False)
    for lv in res.levels:
        c = lv.counts()
        used['vlr'] |= c['vlr'] is not None
        used['im'] |= c['im'] is not None
        lines.append(f'{lv.name} stride={lv.stride} featmap={lv.featmap[0]}x{lv.featmap[1]} priors={c["priors"]} '
                     f'main={c["main"]} {key}={"-" if c["vlr"] is None else c["vlr"]} '
                     f'im={"-" if c["im"] is None else c["im"]}')
        for k in tot:
            tot[k] += c[k] or 0
    lines.append(f'total priors={tot["priors"]} main={tot["main"]} {key}={tot["vlr"] if used["vlr"] else "-"} '
                 f'im={tot["im"] if used["im"] else "-"}')
    return lines


# ---------------------------------------------------------------------------------------- drawing
def _cells(canvas_alpha: np.ndarray, centers: np.ndarray, stride: int, values: np.ndarray) -> None:
    """Paint squares of side ``stride`` centred at ``centers`` with alpha ``values`` (max-composited)."""
    h, w = canvas_alpha.shape
    half = stride / 2
    for (x, y), v in zip(centers, values):
        x0, y0 = int(round(x - half)), int(round(y - half))
        x1, y1 = min(int(round(x + half)), w) - 1, min(int(round(y + half)), h) - 1
        if x1 < 0 or y1 < 0 or x0 >= w or y0 >= h:
            continue
        sub = canvas_alpha[max(y0, 0):y1 + 1, max(x0, 0):x1 + 1]
        np.maximum(sub, v, out=sub)


def _per_location(values: np.ndarray, A: int, reduce: str = 'max') -> np.ndarray:
    v = values.reshape(-1, A)
    return v.max(1) if reduce == 'max' else v.any(1)


def draw_level(img: np.ndarray, lv: LevelRegions, polys: np.ndarray, hboxes: Optional[np.ndarray]) -> np.ndarray:
    import cv2

    base = (img.astype(np.float32) * 0.5 + 40).clip(0, 255)
    h, w = img.shape[:2]
    A = lv.num_base_priors
    if lv.vlr is not None:
        wv = _per_location(lv.vlr, A)
        sel = wv > 0
        if sel.any():
            alpha = np.zeros((h, w), np.float32)
            _cells(alpha, lv.centers[sel], lv.stride, 0.3 + 0.5 * wv[sel] / max(float(wv[sel].max()), 1e-6))
            base = base * (1 - alpha[..., None]) + np.float32(COLORS['vlr']) * alpha[..., None]
    m = _per_location(lv.main.astype(np.float32), A)
    if (m > 0).any():
        alpha = np.zeros((h, w), np.float32)
        _cells(alpha, lv.centers[m > 0], lv.stride, np.full(int((m > 0).sum()), 0.8, np.float32))
        base = base * (1 - alpha[..., None]) + np.float32(COLORS['main']) * alpha[..., None]
    out = base.clip(0, 255).astype(np.uint8)
    lw = max(1, int(round(max(h, w) / 600)))
    if lv.im is not None:
        mi = _per_location(lv.im.astype(np.float32), A) > 0
        if mi.any():
            mask = np.zeros((h, w), np.float32)
            _cells(mask, lv.centers[mi], lv.stride, np.ones(int(mi.sum()), np.float32))
            contours, _ = cv2.findContours((mask > 0).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            cv2.drawContours(out, contours, -1, COLORS['im'], lw)
    pts = [np.round(p.reshape(4, 2)).astype(np.int32) for p in polys]
    if hboxes is not None:
        cv2.polylines(out, pts, True, COLORS['gt_poly'], 1, cv2.LINE_AA)
        for b in hboxes:
            cv2.rectangle(out, (int(b[0]), int(b[1])), (int(b[2]), int(b[3])), COLORS['gt'], lw)
    else:
        cv2.polylines(out, pts, True, COLORS['gt'], lw, cv2.LINE_AA)
    return out


def _titled(panel: np.ndarray, title: str, width: int) -> np.ndarray:
    import cv2

    scale = width / panel.shape[1]
    panel = cv2.resize(panel, (width, max(1, int(round(panel.shape[0] * scale)))), interpolation=cv2.INTER_AREA)
    bar = np.full((26, width, 3), 30, np.uint8)
    cv2.putText(bar, title, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, COLORS['text'], 1, cv2.LINE_AA)
    return np.concatenate([bar, panel], 0)


def legend_panel(res: RegionResult, config_name: str, size: tuple) -> np.ndarray:
    import cv2

    h, w = size
    p = np.full((h, w, 3), 24, np.uint8)
    y = 24

    def line(text, color=COLORS['text'], swatch=None):
        nonlocal y
        x = 10
        if swatch is not None:
            cv2.rectangle(p, (x, y - 11), (x + 16, y + 3), swatch, -1 if swatch != COLORS['im'] else 2)
            x += 24
        cv2.putText(p, text[:80], (x, y), cv2.FONT_HERSHEY_SIMPLEX, 0.45, color, 1, cv2.LINE_AA)
        y += 20

    line(config_name[:70])
    line(f'head: {res.head_type}')
    y += 6
    line('Main region (positives of the assigner)', swatch=COLORS['main'])
    weight = 'IoU weight' if res.second_name == 'VLR' else 'weight'
    line(f'{res.second_name} (shade = {weight}' + (f'; {res.second_note})' if res.second_note else ')'),
         swatch=COLORS['vlr'])
    if res.im_method:
        line(f'imitation mask ({res.im_method}) outline', swatch=COLORS['im'])
    line('ground truth', swatch=COLORS['gt'])
    line('one cell = one location (stride x stride)')
    y += 6
    for text in format_counts(res):
        line(text.replace(' featmap=', ' ').replace('stride=', 's='))
    for n in res.notes:
        line(n[:80], color=(120, 200, 255))
    return p


def compose(img: np.ndarray, res: RegionResult, polys: np.ndarray, hboxes: Optional[np.ndarray],
            config_name: str, panel_width: int = 480, levels: Optional[list] = None, cols: int = 3) -> np.ndarray:
    panels = []
    key = 'VLR' if res.second_name == 'VLR' else 'region'
    for i, lv in enumerate(res.levels):
        if levels is not None and i not in levels:
            continue
        c = lv.counts()
        title = (f'{lv.name} (stride {lv.stride}): main {c["main"]}, {key} '
                 f'{"-" if c["vlr"] is None else c["vlr"]}' + ('' if c['im'] is None else f', IM {c["im"]}'))
        panels.append(_titled(draw_level(img, lv, polys, hboxes), title, panel_width))
    ph = max(p.shape[0] for p in panels)
    panels.append(legend_panel(res, config_name, (ph, panel_width)))
    rows = []
    for r in range(0, len(panels), cols):
        row = [np.pad(p, ((0, ph - p.shape[0]), (0, 0), (0, 0))) for p in panels[r:r + cols]]
        row += [np.zeros((ph, panel_width, 3), np.uint8)] * (cols - len(row))
        rows.append(np.concatenate(row, 1))
    return np.concatenate(rows, 0)


# ---------------------------------------------------------------------------------------- predictions
def predict_outputs(cfg, img: np.ndarray, teacher_ckpt: str, checkpoint: Optional[str] = None):
    """Student and teacher head outputs on ``img`` (BGR) through the config's KD detector."""
    import torch
    from mmengine.runner.checkpoint import load_checkpoint

    from rotated_ld.registry import MODELS
    from rotated_ld.structures import DetDataSample

    model_cfg = copy.deepcopy(dict(cfg.model))
    if 'teacher_config' not in model_cfg:
        raise ValueError('--teacher-ckpt needs a KD config (model.teacher_config)')
    model_cfg['teacher_ckpt'] = teacher_ckpt
    model = MODELS.build(model_cfg)
    if checkpoint:
        load_checkpoint(model, checkpoint, map_location='cpu')
    model.eval()
    h, w = img.shape[:2]
    sample = DetDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w), scale_factor=(1.0, 1.0)))
    data = model.data_preprocessor(dict(inputs=[torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)],
                                        data_samples=[sample]), False)
    with torch.no_grad():
        s = model.bbox_head(model.extract_feat(data['inputs']))
        t = model.teacher.bbox_head(model.teacher.extract_feat(data['inputs']))
    return s, t


# ---------------------------------------------------------------------------------------- CLI
def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Draw the Main / VLR regions and imitation masks of an LD config',
                                epilog='examples:' + __doc__.split('Examples:')[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config', help='LD config (configs/ld, configs/rotated_ld, configs/demo, '
                                  'configs/rotated_ld_retinanet)')
    p.add_argument('image', help='image file')
    p.add_argument('--ann', default=None, help='DOTA labelTxt (.txt) or COCO json; default ../labelTxt/<stem>.txt')
    p.add_argument('--out', default='distill_regions.png', help='output picture (.png / .jpg)')
    p.add_argument('--scale', type=float, default=1.0, help='resize image and boxes first (e.g. 0.75 = 512→384 px)')
    p.add_argument('--levels', type=int, nargs='+', default=None, help='level indices to draw (0 = P3); default all')
    p.add_argument('--panel-width', type=int, default=480, help='width of each panel in px')
    p.add_argument('--jpeg-quality', type=int, default=85, help='quality of a .jpg output')
    p.add_argument('--teacher-ckpt', default=None, help='teacher checkpoint: run the KD model (gibox imitation)')
    p.add_argument('--checkpoint', default=None, help='student checkpoint (with --teacher-ckpt)')
    p.add_argument('--cfg-options', nargs='+', metavar='KEY=VALUE', help='override config entries')
    add_debug_flag(p)
    return p.parse_args(argv)


def run(args: argparse.Namespace) -> RegionResult:
    import cv2

    from rotated_ld.utils.setup_env import load_config

    cfg = load_config(args.config, args.cfg_options)
    head = build_head(cfg)
    family = head_family(head)
    img = cv2.imread(args.image, cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(f'cannot read image {args.image}')
    ann = args.ann or default_ann_path(args.image)
    polys, names = load_gt(ann, args.image)
    if args.scale != 1.0:
        img = cv2.resize(img, (max(1, round(img.shape[1] * args.scale)), max(1, round(img.shape[0] * args.scale))),
                         interpolation=cv2.INTER_AREA)
        polys = polys * args.scale
    gt = gt_instances_for(head, family, polys, names, config_classes(cfg))
    div = (cfg.model.get('data_preprocessor') or {}).get('pad_size_divisor', 32)
    s_out = t_out = None
    if args.teacher_ckpt:
        s_out, t_out = predict_outputs(cfg, img, args.teacher_ckpt, args.checkpoint)
    res = compute_regions(head, img.shape[:2], gt, div, s_out, t_out)
    print(f'config: {args.config}')
    print(f'head: {res.head_type} ({family}); image {img.shape[1]}x{img.shape[0]}; {len(polys)} ground-truth boxes')
    for line in format_counts(res):
        print(line)
    for n in res.notes:
        print(f'note: {n}')
    hboxes = gt.bboxes.numpy() if family == 'gfl' else None
    pic = compose(img, res, polys, hboxes, osp.basename(args.config), args.panel_width, args.levels)
    params = [cv2.IMWRITE_JPEG_QUALITY, int(args.jpeg_quality)] if args.out.lower().endswith(('.jpg', '.jpeg')) else []
    if not cv2.imwrite(args.out, pic, params):
        raise OSError(f'could not write {args.out}')
    print(f'saved {args.out} ({pic.shape[1]}x{pic.shape[0]})')
    return res


@cli_main('show_distill_regions.py')
def main(argv=None) -> int:
    run(parse_args(argv))
    return 0


if __name__ == '__main__':
    sys.exit(main())
