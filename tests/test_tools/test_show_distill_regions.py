"""show_distill_regions.py on a tiny synthetic DOTA scene: the picture is written and the printed per-level
counts equal counts computed here by calling the assigner and ``VLRRegion`` directly. CPU: a few seconds."""
import math
import re
import sys
from pathlib import Path

import cv2
import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools' / 'analysis_tools'))

HBOX_CFG = ROOT / 'configs/ld/ld-vlr-kd_r18-slim-gfl-r18-slim_fpn_synthetic_coco.py'
RBOX_CFG = ROOT / 'configs/demo/rotated-ld_r18-slim-rgfl-r18-slim-long_fpn_synthetic-dota_le90.py'
RETINA_CFG = ROOT / 'configs/rotated_ld_retinanet/rotated_ld_r18-slim-rretinanet-r34-slim_fpn_synthetic_dota_oc.py'
LINE = re.compile(r'^(P\d) stride=(\d+) featmap=(\d+)x(\d+) priors=(\d+) main=(\d+) (vlr|region)=(\S+) im=(\S+)$')


@pytest.fixture(scope='module')
def scene(tmp_path_factory):
    from rotated_ld.datasets.synthetic import make_dota_scenes

    root = tmp_path_factory.mktemp('scene')
    name = make_dota_scenes(str(root), num=1, size_range=(260, 300), seed=1, density=2.0)[0]
    img = root / 'images' / f'{name}.png'
    assert (root / 'labelTxt' / f'{name}.txt').read_text().count('\n') >= 3
    return img, root / 'labelTxt' / f'{name}.txt'


def _printed(out: str) -> dict:
    rows = {}
    for line in out.splitlines():
        m = LINE.match(line.strip())
        if m:
            rows[m.group(1)] = dict(priors=int(m.group(5)), main=int(m.group(6)),
                                    vlr=None if m.group(8) == '-' else int(m.group(8)))
    return rows


def _head(cfg_path):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from rotated_ld.registry import MODELS

    init_default_scope('rotated_ld')
    cfg = Config.fromfile(str(cfg_path))
    head = dict(cfg.model.bbox_head, train_cfg=cfg.model.get('train_cfg'), test_cfg=cfg.model.get('test_cfg'))
    return MODELS.build(head)


def _gts(ann, rotated: bool, angle_version='le90'):
    from rotated_ld.datasets.dota_txt import parse_dota_txt
    from rotated_ld.structures.bbox import poly2hbox, poly2rbox

    polys = torch.as_tensor(parse_dota_txt(str(ann)).polys, dtype=torch.float32)
    return poly2rbox(polys, angle_version) if rotated else poly2hbox(polys)


def _per_level(mask, nlp):
    return [int(m.sum()) for m in torch.split(mask, nlp)]


def _run(capsys, cfg, img, ann, out):
    import show_distill_regions

    assert show_distill_regions.main([str(cfg), str(img), '--ann', str(ann), '--out', str(out)]) == 0
    text = capsys.readouterr().out
    pic = cv2.imread(str(out))
    assert out.is_file() and pic is not None and pic.shape[0] > 100 and pic.shape[1] > 100
    return _printed(text)


@pytest.mark.parametrize('cfg,rotated', [(HBOX_CFG, False), (RBOX_CFG, True)], ids=['ld-hbox', 'rotated-ld'])
def test_counts_equal_direct_assignment(scene, tmp_path, capsys, cfg, rotated):
    from rotated_ld.models.distillers import VLRRegion

    img, ann = scene
    printed = _run(capsys, cfg, img, ann, tmp_path / 'regions.png')
    head = _head(cfg)
    h, w = cv2.imread(str(img)).shape[:2]
    hp, wp = math.ceil(h / 32) * 32, math.ceil(w / 32) * 32  # the configs pad to 32
    sizes = [(math.ceil(hp / s), math.ceil(wp / s)) for s in (8, 16, 32, 64, 128)]
    _, prior_boxes, _, nlp = head.get_priors(sizes, 'cpu')
    gts = _gts(ann, rotated)
    labels = torch.zeros(len(gts), dtype=torch.long)
    res = head.assigner.assign(prior_boxes, nlp, gts, labels)
    pos = res.gt_inds >= 0
    vlr = VLRRegion(topk=9, alpha=0.25, overlap='diou', exclude_pos=True,
                    box_type='rbox' if rotated else 'hbox')
    v = vlr(prior_boxes, nlp, gts, pos, thresholds=res.thresholds) > 0
    exp_main, exp_vlr = _per_level(pos, nlp), _per_level(v, nlp)
    assert [printed[f'P{i + 3}']['priors'] for i in range(5)] == nlp
    assert [printed[f'P{i + 3}']['main'] for i in range(5)] == exp_main
    assert [printed[f'P{i + 3}']['vlr'] for i in range(5)] == exp_vlr
    assert sum(exp_main) > 0 and sum(exp_vlr) > 0


def test_rotated_ld_retinanet_region(scene, tmp_path, capsys):
    from rotated_ld.models.distillers import RotatedLDRegion

    img, ann = scene
    printed = _run(capsys, RETINA_CFG, img, ann, tmp_path / 'regions.jpg')
    head = _head(RETINA_CFG)
    h, w = cv2.imread(str(img)).shape[:2]
    hp, wp = math.ceil(h / 32) * 32, math.ceil(w / 32) * 32
    sizes = [(math.ceil(hp / s), math.ceil(wp / s)) for s in (8, 16, 32, 64, 128)]
    priors, nlp = head.priors(sizes, 'cpu')
    gts = _gts(ann, True, 'oc')
    res = head.assigner.assign(priors, gts, torch.zeros(len(gts), dtype=torch.long))
    region = RotatedLDRegion()(priors, nlp, gts) > 0
    assert [printed[f'P{i + 3}']['main'] for i in range(5)] == _per_level(res.gt_inds > 0, nlp)
    assert [printed[f'P{i + 3}']['vlr'] for i in range(5)] == _per_level(region, nlp)


def test_missing_label_file_is_an_error(tmp_path, capsys):
    import show_distill_regions

    img = tmp_path / 'x.png'
    cv2.imwrite(str(img), torch.zeros(64, 64, 3, dtype=torch.uint8).numpy())
    assert show_distill_regions.main([str(RBOX_CFG), str(img)]) == 2
    assert 'no label file' in capsys.readouterr().err


def test_finegrained_imitation_mask(scene, tmp_path, capsys):
    """configs/ld imitation config: printed im counts = finegrained_mask of the ATSS IoU, per level."""
    from rotated_ld.models.distillers import finegrained_mask

    cfg = ROOT / 'configs/ld/im-finegrained_r50-gfl-r101_fpn_1x_coco.py'
    img, ann = scene
    import show_distill_regions

    assert show_distill_regions.main([str(cfg), str(img), '--ann', str(ann), '--out', str(tmp_path / 'im.png')]) == 0
    text = capsys.readouterr().out
    ims = {m.group(1): m.group(9) for m in map(LINE.match, text.splitlines()) if m}
    head = _head(cfg)
    h, w = cv2.imread(str(img)).shape[:2]
    hp, wp = math.ceil(h / 32) * 32, math.ceil(w / 32) * 32
    _, prior_boxes, _, nlp = head.get_priors([(math.ceil(hp / s), math.ceil(wp / s)) for s in (8, 16, 32, 64, 128)],
                                             'cpu')
    gts = _gts(ann, False)
    res = head.assigner.assign(prior_boxes, nlp, gts, torch.zeros(len(gts), dtype=torch.long))
    exp = _per_level(finegrained_mask(res.overlaps), nlp)
    assert [int(ims[f'P{i + 3}']) for i in range(5)] == exp and sum(exp) > 0


@pytest.mark.filterwarnings('ignore:teacher_ckpt.*has no rotated_ld convention meta')
def test_gibox_with_teacher_checkpoint(scene, tmp_path, capsys):
    """--teacher-ckpt runs teacher and student: the GI mask keeps at most topk (10) locations per level."""
    import show_distill_regions
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from rotated_ld.registry import MODELS

    init_default_scope('rotated_ld')
    torch.manual_seed(0)
    teacher = MODELS.build(Config.fromfile(str(ROOT / 'configs/gfl/gfl_r18-slim_fpn_synthetic_coco.py')).model)
    ckpt = tmp_path / 'teacher.pth'
    torch.save({'state_dict': teacher.state_dict(), 'meta': {}}, ckpt)
    img, ann = scene
    assert show_distill_regions.main([str(HBOX_CFG), str(img), '--ann', str(ann), '--out', str(tmp_path / 'gi.png'),
                                      '--teacher-ckpt', str(ckpt),
                                      '--cfg-options', 'model.bbox_head.imitation_method=gibox']) == 0
    text = capsys.readouterr().out
    ims = [int(m.group(9)) for m in map(LINE.match, text.splitlines()) if m]
    assert len(ims) == 5 and all(0 < n <= 10 for n in ims[:3])
