"""GFLv2 config names: the LD repository's GFLv2 names resolve to GFLv2 models (student ``LDGFLv2Head``
distilled from a ``GFLv2Head`` teacher with the published Main-LD-only weights); the Res2Net ones stop
with one line that names Res2Net and configs that exist; the GFLv2 configs set the paper's DGQP."""
import os.path as osp
import re

import pytest
from mmengine.config import Config

from rotated_ld.utils.config_alias import ConfigAliasRefused
from rotated_ld.utils.setup_env import load_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DGQP = dict(type='DGQP', reg_topk=4, reg_channels=64, add_mean=True)


def _cfg(rel):
    return load_config(osp.join(ROOT, 'configs', rel))


@pytest.mark.parametrize('rel, teacher', [
    ('ld/ld_gflv2_r101_r50_fpn_coco_1x.py', 'gfl/gflv2_r101_fpn_2x_coco.py'),
    ('ld/ld_gflv2_r101dcn_r101_fpn_coco_2x.py', 'gfl/gflv2_r101-dcn_fpn_ms-2x_coco.py')])
def test_ld_gflv2_names_are_gflv2_students_of_gflv2_teachers(rel, teacher):
    cfg = _cfg(rel)
    head = cfg.model.bbox_head
    assert head.type == 'LDGFLv2Head' and head.quality_branch == DGQP
    # HikariTJU/LD's LDGFLv2Head configs: LDLoss 0.25, T 10 on the positives only
    assert (head.loss_ld.loss_weight, head.loss_ld.T) == (0.25, 10)
    assert head.loss_ld_vlr.loss_weight == head.loss_kd.loss_weight == head.loss_kd_vlr.loss_weight == 0
    assert osp.normpath(cfg.model.teacher_config) == osp.join(ROOT, 'configs', teacher)
    t_head = Config.fromfile(cfg.model.teacher_config).model.bbox_head
    assert t_head.type == 'GFLv2Head' and t_head.quality_branch == DGQP


@pytest.mark.parametrize('rel', ['gfocal/gfocal_r101_fpn_ms2x.py', 'gfocal/gfocal_r101dcn_2x.py',
                                 'gfl/gflv2_r50_fpn_1x_coco.py', 'gfl/gflv2_r101_fpn_2x_coco.py',
                                 'gfl/gflv2_r101_fpn_2x_voc.py'])
def test_gflv2_teacher_names_are_gflv2(rel):
    head = _cfg(rel).model.bbox_head
    assert head.type == 'GFLv2Head' and head.quality_branch == DGQP


@pytest.mark.parametrize('name', ['ld_gflv2_r2n_r2n_fpn_coco_2x', 'ld_gflv2_r2n_r101dcn_fpn_coco_2x',
                                  'ld_gflv2_r2n_x101_fpn_coco_2x'])
def test_res2net_names_refused_naming_res2net_and_existing_configs(name):
    with pytest.raises(ConfigAliasRefused) as info:
        _cfg(f'ld/{name}.py')
    msg = str(info.value)
    assert '\n' not in msg and name in msg and 'Res2Net' in msg
    named = re.findall(r'configs/[\w./-]+\.py', msg)
    assert 'configs/ld/ld_r50-gflv2-r101_fpn_1x_coco.py' in named
    assert all(osp.isfile(osp.join(ROOT, p)) for p in named)
