"""Config names of the LD and Rotated-LD repositories resolve here: an alias loads exactly this project's
config (plus the documented override) and says its name; a name of a detector not implemented here
stops with one line naming configs that exist."""
import glob
import os.path as osp
import re

import pytest
from mmengine.config import Config

from rotated_ld.utils.config_alias import ConfigAliasRefused, is_upstream_alias
from rotated_ld.utils.setup_env import load_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# every name the LD repository's README and configs/ld use (issue list), with the teachers they name
LD_NAMES = ['ld_gflv1_r101_r18_fpn_coco_1x', 'ld_gflv1_r101_r34_fpn_coco_1x', 'ld_gflv1_r101_r50_fpn_coco_1x',
            'ld_gflv1_r101dcn_r101_fpn_coco_2x', 'ld_gflv1_r101_r18_fpn_voc', 'ld_r18_gflv1_r101_fpn_coco_1x',
            'ld_r50_gflv1_r101_fpn_coco_1x', 'ld_r18_gflv1_r101_fpn_voc_1x', 'ld_gflv2_r101_r50_fpn_coco_1x',
            'ld_gflv2_r101dcn_r101_fpn_coco_2x', 'ld_r50_atss_r101_1x', 'ld_r50_fcos_r101_1x', 'ld_retina_r50_1x',
            'ld_r18_self_2x_3x_voc', 'ld_r50_faster_r101_1x']
LD_TEACHERS = ['gfl/gfl_r101_fpn_mstrain_2x_coco', 'gfl/gfl_r101_fpn_dconv_c3-c5_mstrain_2x_coco',
               'gfl/gfl_r101_fpn_voc', 'gfl/gfl_r101_fpn_1x_voc', 'gfl/gfl_r18_fpn4x_voc',
               'gfocal/gfocal_r101_fpn_ms2x',
               'gfocal/gfocal_r101dcn_2x', 'gfl/atss_gfl_r101_2x', 'gfl/fcos_gfl_r101_2x_center',
               'gfl/retinagfl_r101_2x_coco', 'gfl/retina_gfl_r101_2x', 'gfl/fasterrcnn_gfl_r101_2x']
# Rotated-LD (Zzh-tju/Rotated-LD) configs and the teachers / base they name
ROTATED_LD_NAMES = ['ld/rotated_retinanet_distribution_hbb_kld_r18_r34_fpn_1x_dota_oc',
                    'ld/rotated_retinanet_distribution_hbb_gwd_r18_r34_fpn_1x_dota_oc',
                    'ld/rotated_retinanet_distribution_hbb_gwd_r18_r50_fpn_1x_dota_oc',
                    'gwd/rotated_retinanet_distribution_hbb_gwd_r34_fpn_2x_dota_oc',
                    'gwd/rotated_retinanet_distribution_hbb_gwd_r50_fpn_2x_dota_oc',
                    'gwd/rotated_retinanet_distribution_hbb_gwd_r50_fpn_1x_dota_oc',
                    'kld/rotated_retinanet_distribution_hbb_kld_r34_fpn_2x_dota_oc',
                    'rotated_retinanet/rotated_retinanet_hbb_r50_fpn_1x_dota_oc']
# not implemented here (refused); everything else is an alias
REFUSED = {'ld_r50_faster_r101_1x',
           'fasterrcnn_gfl_r101_2x'}
# aliases that add one override of the upstream file to this project's config: dotted key -> value
OVERRIDES = {'ld_r50_gflv1_r101_fpn_coco_1x': {'model.bbox_head.loss_kd.loss_weight': 5,
                                               'model.bbox_head.loss_kd.T': 2},
             'ld_r18_gflv1_r101_fpn_voc_1x': {'model.bbox_head.loss_bbox.type': 'CIoULoss'},
             'retina_gfl_r101_2x': {'model.test_cfg.nms.iou_threshold': 0.5}}

ALL = ['ld/' + n for n in LD_NAMES] + LD_TEACHERS + ROTATED_LD_NAMES
ALIAS_FILES = sorted(p for p in glob.glob(osp.join(ROOT, 'configs', '*', '*.py')) if is_upstream_alias(p))


def _path(name):
    return osp.join(ROOT, 'configs', name + '.py')


def _get(d, dotted):
    for part in dotted.split('.'):
        d = d[part]
    return d


def test_every_listed_name_has_a_file_and_no_file_is_unlisted():
    assert all(osp.isfile(_path(n)) for n in ALL), [n for n in ALL if not osp.isfile(_path(n))]
    listed = {_path(n) for n in ALL}
    extra = [osp.relpath(p, ROOT) for p in ALIAS_FILES if p not in listed]
    # further upstream names (more GFLv2 backbones, mmdet-2 teacher names): aliases or refusals as well
    assert all(is_upstream_alias(osp.join(ROOT, p)) for p in extra)


@pytest.mark.parametrize('name', ALL)
def test_alias_loads_our_config_or_refuses_naming_what_exists(name):
    path, short = _path(name), name.split('/')[-1]
    notices = []
    if short in REFUSED:
        with pytest.raises(ConfigAliasRefused) as info:
            load_config(path)
        msg = str(info.value)
        assert '\n' not in msg and short in msg and 'not implemented' in msg
        named = re.findall(r'configs/[\w./-]+\.py', msg)
        assert named and all(osp.isfile(osp.join(ROOT, p)) for p in named), named
        return
    import rotated_ld.utils.setup_env as setup_env

    cfg = setup_env.finish_config(Config.fromfile(path), path, log=notices.append)
    assert len(notices) == 1 and short in notices[0]
    ours = re.search(r'this project calls it (configs/\S+\.py)', notices[0]).group(1)
    assert not is_upstream_alias(osp.join(ROOT, ours))
    expected = load_config(osp.join(ROOT, ours)).to_dict()
    got = cfg.to_dict()
    for key, value in OVERRIDES.get(short, {}).items():
        assert _get(got, key) == value
        parent, leaf = key.rsplit('.', 1)
        _get(expected, parent)[leaf] = value
    assert got == expected


def test_alias_marker_is_not_left_in_the_config():
    cfg = load_config(_path('ld/ld_gflv1_r101_r50_fpn_coco_1x'))
    assert 'upstream_alias' not in cfg


def _print_config():
    import importlib.util

    spec = importlib.util.spec_from_file_location('print_config', osp.join(ROOT, 'tools', 'misc', 'print_config.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_print_config_says_the_project_name_or_refuses_in_one_line(capsys):
    tool = _print_config()
    assert tool.main([_path('ld/ld_gflv1_r101_r50_fpn_coco_1x')]) == 0
    out, err = capsys.readouterr()
    assert 'this project calls it configs/ld/ld_r50-gfl-r101_fpn_1x_coco.py' in err
    assert 'upstream_alias' not in out and "type='KDSingleStageDetector'" in out

    assert tool.main([_path('ld/ld_r101_r50_fpn_ms2x')]) != 0
    out, err = capsys.readouterr()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and 'no ms-2x R-50 student config' in lines[0]
    assert 'configs/ld/ld_r50-gfl-r101_fpn_1x_coco.py' in lines[0]


def test_upstream_teacher_names_work_as_teacher_config():
    """LD configs name their teacher by the LD repository's path; the KD detector resolves it the same way."""
    from rotated_ld.models.detectors.kd_single_stage import KDSingleStageDetector

    ours = Config.fromfile(_path('gfl/gfl_r101_fpn_ms-2x_coco')).model.to_dict()
    assert KDSingleStageDetector._teacher_model_cfg(_path('gfl/gfl_r101_fpn_mstrain_2x_coco')).to_dict() == ours
    atss = Config.fromfile(_path('gfl/atss-gfl_r101_fpn_ms-2x_coco')).model.to_dict()
    assert KDSingleStageDetector._teacher_model_cfg(_path('gfl/atss_gfl_r101_2x')).to_dict() == atss
