"""Pins for the LD refactor: every LD config's losses on fixed inputs, every shipped config's resolved dict.

Run as a script to (re)generate ``ld_loss_pins.json`` and ``config_pins.json`` from the code of the
current checkout::

    PYTHONPATH=$PWD python tests/test_models/pins/ld_pins.py
    PYTHONPATH=$PWD python tests/test_models/pins/ld_pins.py --add-missing   # pin new configs only

``tests/test_configs/test_ld_pins.py`` recomputes both and compares. The pins were first written from
the code *before* the LD engine / head refactor, so they prove the refactor changed no loss value
(≤ 1e-6 relative) and no resolved config (except the names listed in ``RENAMED`` of the test).

Loss inputs: the student ``bbox_head`` of each LD config, slimmed (8 input / 8 tower channels, one
conv per tower, GroupNorm with 4 groups where the config has GN), seeded weights; two 128×128 images
with fixed GT boxes (xyxy for horizontal heads, ``(cx, cy, w, h, angle)`` radians for rotated ones,
already inside every angle version's range); random student features, teacher features and teacher
head outputs from a seeded generator. ``head.loss`` is called as ``KDSingleStageDetector`` calls it.
"""
from __future__ import annotations

import copy
import glob
import hashlib
import json
import math
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
HERE = osp.dirname(osp.abspath(__file__))
LOSS_PINS = osp.join(HERE, 'ld_loss_pins.json')
CONFIG_PINS = osp.join(HERE, 'config_pins.json')
LD_DIRS = ('ld', 'rotated_ld', 'rotated_ld_retinanet', 'demo')
IMG = 128
CH = 8


def ld_configs() -> list[str]:
    """Every shipped config whose student is an LD head (KD detector), relative to ``configs/``."""
    from mmengine.config import Config

    from rotated_ld.utils.config_alias import is_upstream_alias

    out = []
    for d in LD_DIRS:
        for p in sorted(glob.glob(osp.join(ROOT, 'configs', d, '*.py'))):
            # upstream (LD / Rotated-LD repository) names load one of ours (tests/test_utils/test_upstream_configs.py)
            if is_upstream_alias(p):
                continue
            if Config.fromfile(p).model.get('type') == 'KDSingleStageDetector':
                out.append(osp.relpath(p, osp.join(ROOT, 'configs')))
    return out


def all_configs() -> list[str]:
    from rotated_ld.utils.config_alias import is_upstream_alias

    paths = sorted(glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True))
    return [osp.relpath(p, osp.join(ROOT, 'configs')) for p in paths if '_base_' not in p and not is_upstream_alias(p)]


def _plain(obj):
    """Resolved config → JSON-able, machine independent (checkout root replaced by ``<root>``)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, str):
        return obj.replace(ROOT, '<root>')
    if obj is None or isinstance(obj, (bool, int, float)):
        return obj
    return repr(obj)


def config_pin(rel: str) -> dict:
    """``model`` of the resolved config (kept whole, to diff names) + sha256 of everything else."""
    from mmengine.config import Config

    d = _plain(Config.fromfile(osp.join(ROOT, 'configs', rel)).to_dict())
    model = d.pop('model', None)
    rest = hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()
    return dict(model=model, rest_sha256=rest)


def slim_head_cfg(rel: str) -> dict:
    from mmengine.config import Config

    cfg = Config.fromfile(osp.join(ROOT, 'configs', rel))
    head = copy.deepcopy(cfg.model.bbox_head.to_dict())
    head.update(in_channels=CH, feat_channels=CH, stacked_convs=1,
                train_cfg=copy.deepcopy(cfg.model.get('train_cfg')),
                test_cfg=copy.deepcopy(cfg.model.get('test_cfg')))
    if head.get('norm_cfg', 'absent') not in (None, 'absent') or head['type'] in ('LDHead', 'RotatedLDHead'):
        # GFL heads default to GN(32): keep a GN path that fits 8 channels
        if head.get('norm_cfg', 'absent') is not None:
            head['norm_cfg'] = dict(type='GN', num_groups=4, requires_grad=True)
    return head


def _levels(head) -> list[int]:
    return [int(s[0]) if isinstance(s, (tuple, list)) else int(s) for s in head.strides]


def _samples(rotated: bool):
    import torch
    from mmengine.structures import InstanceData

    from rotated_ld.structures import DetDataSample

    # (cx, cy, w, h, angle): w ≥ h and angle in (−π/4, π/4) → valid in oc (after w/h roles), le90, le135
    rb = [torch.tensor([[40., 44., 48., 22., 0.30], [88., 70., 36., 20., -0.50], [64., 100., 30., 26., 0.0]]),
          torch.tensor([[30., 30., 40., 18., -0.20], [90., 90., 56., 30., 0.60]])]
    labels = [torch.tensor([1, 3, 0]), torch.tensor([2, 1])]
    out = []
    for i in range(2):
        s = DetDataSample(metainfo=dict(img_id=i, img_shape=(IMG, IMG), ori_shape=(IMG, IMG),
                                        pad_shape=(IMG, IMG), batch_input_shape=(IMG, IMG),
                                        scale_factor=(1.0, 1.0)))
        gt = InstanceData()
        if rotated:
            gt.bboxes = rb[i].clone()
        else:
            c, wh = rb[i][:, :2], rb[i][:, 2:4]
            gt.bboxes = torch.cat([c - wh / 2, c + wh / 2], 1)
        gt.labels = labels[i]
        s.gt_instances = gt
        out.append(s)
    return out


# code paths no shipped config takes, written with today's config keys: (base config, bbox_head overrides)
VARIANTS = {
    'variant/ld-mean-normalize': ('ld/ld-vlr-kd_r50-gfl-r101_fpn_1x_coco.py',
                                  dict(distill_cfg=dict(ld_normalize='mean', kd_normalize='mean'))),
    'variant/ld-kd-sum-iof': ('ld/ld-vlr-kdvlr_r18-gfl-r101_fpn_4e_voc.py',
                              dict(distill_cfg=dict(kd_normalize='sum'),
                                   vlr=dict(type='VLRRegion', topk=9, alpha=0.25, overlap='iof_diou',
                                            exclude_pos=False))),
    'variant/rotated-ld-square-iof': ('rotated_ld/rotated_ld_r18-rgfl-r50_fpn_1x_dota_le90.py',
                                      dict(angle_square_weight=True,
                                           distiller=dict(vlr=dict(overlap='iof_diou')),
                                           angle_distiller=dict(vlr=dict(overlap='iof_diou')))),
    'variant/rotated-ld-retina-circumscribed': ('rotated_ld_retinanet/rotated_ld_r18-rretinanet-r34_fpn_1x_dota_oc.py',
                                                dict(region_gt='circumscribed', region_alpha=0.5)),
}


def variant_cfg(name: str) -> dict:
    rel, over = VARIANTS[name]
    return _merge(slim_head_cfg(rel), over)


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and 'type' not in v:
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def head_losses(rel: str, cfg: dict | None = None) -> dict[str, float]:
    """Losses of the slim student head of config ``rel`` on the fixed inputs (fp32, CPU)."""
    import torch

    import rotated_ld.models  # noqa: F401  (registers)
    from rotated_ld.registry import MODELS

    torch.manual_seed(0)
    head = MODELS.build(cfg or slim_head_cfg(rel))
    head.train()
    g = torch.Generator().manual_seed(1)
    strides = _levels(head)
    feats = tuple(torch.randn(2, CH, math.ceil(IMG / s), math.ceil(IMG / s), generator=g) for s in strides)
    t_feats = tuple(torch.randn(f.shape, generator=g) for f in feats)
    with torch.no_grad():
        outs = head(feats)
    t_outs = tuple([torch.randn(o.shape, generator=g) * 2 for o in per_level] for per_level in outs)
    rotated = getattr(head, 'box_type', 'rbox') == 'rbox'  # horizontal LD heads get xyxy GTs
    losses = head.loss(feats, _samples(rotated), teacher_outs=t_outs, teacher_feats=t_feats)
    return {k: float(v.detach().float().sum()) for k, v in sorted(losses.items())}


def add_missing() -> None:
    """Pin only the configs the pin files lack (new configs), leaving every existing pin as it is."""
    with open(LOSS_PINS) as f:
        loss_pins = json.load(f)
    with open(CONFIG_PINS) as f:
        cfg_pins = json.load(f)
    new_ld = [rel for rel in ld_configs() if rel not in loss_pins]
    new_cfg = [rel for rel in all_configs() if rel not in cfg_pins]
    loss_pins.update({rel: head_losses(rel) for rel in new_ld})
    cfg_pins.update({rel: config_pin(rel) for rel in new_cfg})
    with open(LOSS_PINS, 'w') as f:
        json.dump(loss_pins, f, indent=1, sort_keys=True)
    with open(CONFIG_PINS, 'w') as f:
        json.dump(cfg_pins, f, indent=None, sort_keys=True, separators=(',', ':'))
    print(f'added loss pins {new_ld} and config pins {new_cfg}')


def main() -> None:
    sys.path.insert(0, ROOT)
    import torch

    torch.set_num_threads(1)
    from mmengine.registry import init_default_scope

    init_default_scope('rotated_ld')
    if '--add-missing' in sys.argv[1:]:
        add_missing()
        return
    loss_pins = {rel: head_losses(rel) for rel in ld_configs()}
    loss_pins.update({name: head_losses(name, variant_cfg(name)) for name in VARIANTS})
    with open(LOSS_PINS, 'w') as f:
        json.dump(loss_pins, f, indent=1, sort_keys=True)
    cfg_pins = {rel: config_pin(rel) for rel in all_configs()}
    with open(CONFIG_PINS, 'w') as f:
        json.dump(cfg_pins, f, indent=None, sort_keys=True, separators=(',', ':'))
    print(f'{len(loss_pins)} LD configs -> {LOSS_PINS}; {len(cfg_pins)} configs -> {CONFIG_PINS}')


if __name__ == '__main__':
    main()
