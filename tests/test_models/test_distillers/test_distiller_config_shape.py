"""One config shape for every LD head: ``distiller=dict(...)`` gives the losses the older head-level
keys gave. The reference values are the pins written from the code before the LD engine existed
(``pins/ld_loss_pins.json``), so this checks the new shape against the old implementation, not
against the translation code."""
from __future__ import annotations

import json
import math

import pytest
import torch

from tests.test_models.pins import ld_pins

with open(ld_pins.LOSS_PINS) as f:
    PINS = json.load(f)


def _new_shape_ld(cfg: dict) -> dict:
    """LDHead: move the head-level LD keys and ``distill_cfg`` into ``distiller``."""
    cfg = dict(cfg)
    d = {k: cfg.pop(k) for k in ('loss_ld', 'loss_ld_vlr', 'loss_kd', 'loss_kd_vlr', 'loss_im',
                                 'imitation_method', 'vlr') if k in cfg}
    d.update(cfg.pop('distill_cfg', None) or {})
    return dict(cfg, distiller=d)


def _new_shape_retina(cfg: dict) -> dict:
    """RotatedLDRetinaHead: written by hand in the engine's vocabulary (region strategy, KD rows,
    normalisation names)."""
    cfg = dict(cfg)
    old = {k: cfg.pop(k) for k in ('loss_ld', 'loss_kd', 'region', 'region_alpha', 'region_topk',
                                   'region_gt', 'normalize') if k in cfg}
    norm = {'level': 'level_mean', 'mean': 'mean'}[old.get('normalize', 'level')]
    d = dict(loss_ld=old['loss_ld'], loss_kd=old['loss_kd'], ld_normalize=norm, kd_normalize=norm)
    if old.get('region', 'rotated_ld') == 'positives':
        d.update(region=None, kd_region='labelled', kd_weight='one')
    else:
        d['region'] = dict(type='RotatedLDRegion', alpha=old.get('region_alpha', 0.25),
                           topk=old.get('region_topk', 9), region_gt=old.get('region_gt', 'ignore_angle'))
    return dict(cfg, distiller=d)


CASES = {
    'variant/ld-mean-normalize': _new_shape_ld,
    'variant/ld-kd-sum-iof': _new_shape_ld,
    'ld/im-decouple_r50-gfl-r101_fpn_1x_coco.py': _new_shape_ld,
    'rotated_ld_retinanet/rotated_ld-jdet_r18-rretinanet-r34_fpn_1x_dota_oc.py': _new_shape_retina,
    'variant/rotated-ld-retina-circumscribed': _new_shape_retina,
}


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.mark.parametrize('name', sorted(CASES), ids=str)
def test_distiller_shape_equals_old_keys(name):
    old = ld_pins.variant_cfg(name) if name in ld_pins.VARIANTS else ld_pins.slim_head_cfg(name)
    new = CASES[name](old)
    assert 'distiller' in new and not ({'region', 'normalize', 'distill_cfg', 'vlr'} & set(new))
    got = ld_pins.head_losses(name, new)
    want = PINS[name]
    assert sorted(got) == sorted(want)
    for key, value in want.items():
        assert math.isclose(got[key], value, rel_tol=1e-6, abs_tol=1e-9), (key, got[key], value)
