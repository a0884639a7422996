"""Every configs/ld config loads, names a teacher relative to itself with a compatible head, and sets
the loss weights of its LD README row; the synthetic LD config builds and runs loss + predict
(teacher frozen and absent from the state dict). CPU: ~10 s; building every real config is slow."""
import glob
import os.path as osp
import warnings

import pytest
import torch
from mmengine.config import Config
from mmengine.structures import InstanceData

from rotated_ld.registry import MODELS
from rotated_ld.structures import DetDataSample
from rotated_ld.utils.config_alias import is_upstream_alias

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# upstream (LD / Rotated-LD repository) names are tested in tests/test_utils/test_upstream_configs.py
CONFIGS = sorted(p for p in glob.glob(osp.join(ROOT, 'configs', 'ld', '*.py')) if not is_upstream_alias(p))
SYNTH = osp.join(ROOT, 'configs', 'ld', 'ld-vlr-kd_r18-slim-gfl-r18-slim_fpn_synthetic_coco.py')


def _weights(head):
    return tuple(head[k]['loss_weight'] if head.get(k) else 0
                 for k in ('loss_ld', 'loss_ld_vlr', 'loss_kd', 'loss_kd_vlr'))


# README row -> (Main LD, VLR LD, Main KD, VLR KD) weights and imitation method
EXPECTED = {
    'ld_r18-gfl-r101_fpn_1x_coco.py': ((0.25, 0, 0, 0), None),
    'ld_r34-gfl-r101_fpn_1x_coco.py': ((0.25, 0, 0, 0), None),
    'ld_r50-gfl-r101_fpn_1x_coco.py': ((0.25, 0, 0, 0), None),
    'ld_r101-gfl-r101-dcn_fpn_2x_coco.py': ((0.25, 0, 0, 0), None),
    'ld-vlr-kd_r50-gfl-r101_fpn_1x_coco.py': ((0.25, 0.25, 10, 0), None),
    'ld-vlr-kd-gibox_r50-gfl-r101_fpn_1x_coco.py': ((0.25, 0.25, 10, 0), 'gibox'),
    'im-fitnet_r50-gfl-r101_fpn_1x_coco.py': ((0, 0, 0, 0), 'fitnet'),
    'im-decouple_r50-gfl-r101_fpn_1x_coco.py': ((0, 0, 0, 0), 'decouple'),
    'self-ld_r50-gfl-r50_fpn_1x_coco.py': ((0.25, 0, 0, 0), None),
    'ld-vlr-kdvlr_r18-gfl-r101_fpn_4e_voc.py': ((0.25, 0.25, 0, 10), None),
    'ld_r50-gflv2-r101_fpn_1x_coco.py': ((0.25, 0, 0, 0), None),
    'ld_r101-gflv2-r101-dcn_fpn_2x_coco.py': ((0.25, 0, 0, 0), None),
    'ld-vlr-kd_r18-slim-gflv2-r18-slim_fpn_synthetic_coco.py': ((0.25, 0.25, 10, 0), None),
    # LD repository ld_retina_r50_1x.py: loss_ld 5, loss_ld_neg = 0.03 x 5, loss_kd 10 (LDRetinaHead)
    'ld_r50-retinanet-gfl-r101_fpn_1x_coco.py': ((5, 0.15, 10, 0), None),
    'ld_r50-retinanet-gfl-r101_fpn_4e_voc.py': ((5, 0.15, 10, 0), None),
}
#: the LD student head of each family (GFL; GFLv2 students are the configs with 'gflv2' in the name)
LD_HEAD_TYPES = ('LDHead', 'LDGFLv2Head', 'LDATSSHead', 'LDFCOSHead', 'LDRetinaHead')


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_loads_and_teacher_is_compatible(path):
    cfg = Config.fromfile(path)
    model = cfg.model
    assert model.type == 'KDSingleStageDetector' and model.bbox_head.type in LD_HEAD_TYPES
    # a GFLv2 student distils from a GFLv2 teacher (same DGQP branch; docs/ld.md "GFLv2")
    assert (model.bbox_head.type == 'LDGFLv2Head') == ('gflv2' in osp.basename(path))
    teacher = model.teacher_config
    assert osp.isabs(teacher) and osp.dirname(path) in teacher   # relative to the config file
    assert osp.isfile(teacher), f'{path}: teacher config {osp.relpath(teacher, ROOT)} does not exist'
    t_head = Config.fromfile(teacher).model.bbox_head
    s_head = model.bbox_head
    # a RetinaNet student (LDRetinaHead) distils from a RetinaGFLHead teacher with the same anchors
    assert (s_head.type == 'LDRetinaHead') == (t_head.type == 'RetinaGFLHead')
    for key in ('num_classes', 'reg_max', 'strides', 'octave_base_scale', 'anchor_generator'):
        assert t_head.get(key) == s_head.get(key), key
    assert model.data_preprocessor == Config.fromfile(teacher).model.data_preprocessor
    name = osp.basename(path)
    if name in EXPECTED:
        weights, method = EXPECTED[name]
        assert _weights(s_head) == weights
        assert s_head.get('imitation_method') == method
        if method:
            assert s_head.loss_im.loss_weight == 2.0


def test_voting_nms_config():
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'ld',
                                   'ld-vlr-kd_r50-gfl-r101_fpn_1x_coco_voting-nms.py'))
    assert cfg.model.test_cfg.nms == dict(type='voting_cluster_diounms', iou_threshold=0.6)


def _batch(n=2, size=(64, 80)):
    g = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for i in range(n):
        inputs.append(torch.randint(0, 255, (3, *size), generator=g, dtype=torch.uint8))
        s = DetDataSample(metainfo=dict(img_id=i, img_shape=size, ori_shape=size,
                                        scale_factor=(1.0, 1.0)))
        gt = InstanceData()
        gt.bboxes = torch.tensor([[10., 12., 50., 60.], [40., 20., 75., 50.]])
        gt.labels = torch.tensor([1, 3])
        s.gt_instances = gt
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def test_synthetic_ld_config_trains_one_step_and_predicts():
    cfg = Config.fromfile(SYNTH)
    cfg.model.teacher_ckpt = None
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    teacher = model.teacher
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    assert not any(k.startswith('teacher') or k.startswith('_teacher') for k in model.state_dict())
    data = model.data_preprocessor(_batch(), training=True)
    losses = model(**data, mode='loss')
    assert {'loss_ld', 'loss_ld_vlr', 'loss_kd', 'loss_kd_vlr'} <= set(losses)
    assert all(torch.isfinite(v).all() for v in losses.values())
    assert losses['loss_ld'] > 0 and losses['loss_kd'] > 0
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    sum(losses.values()).backward()
    assert all(p.grad is None for p in teacher.parameters())
    opt.step()
    for k, v in teacher.state_dict().items():
        assert torch.equal(v, before[k]), k
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(_batch(1), training=False)
        out = model(**data, mode='predict')
    assert out[0].pred_instances.bboxes.shape[-1] == 4
    # the voting-NMS test_cfg runs through the student head (low score_thr: random weights)
    model.bbox_head.test_cfg.update(score_thr=0.0, nms_pre=30, max_per_img=20,
                                    nms=dict(type='voting_cluster_diounms', iou_threshold=0.6))
    with torch.no_grad():
        out = model(**data, mode='predict')
    det = out[0].pred_instances
    assert 0 < len(det.bboxes) <= 20 and torch.all(det.scores[:-1] >= det.scores[1:])


@pytest.mark.slow
@pytest.mark.parametrize('path', [p for p in CONFIGS if p.endswith('coco.py')], ids=osp.basename)
def test_real_config_builds(path):
    """Build student + teacher of each real COCO config (random teacher, no pretrained init)."""
    cfg = Config.fromfile(path)
    cfg.model.teacher_ckpt = None
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model = MODELS.build(cfg.model)
    assert model.bbox_head.reg_max == model.teacher.bbox_head.reg_max


def test_teacher_student_mismatch_fails_at_build():
    cfg = Config.fromfile(SYNTH)
    teacher = Config.fromfile(cfg.model.teacher_config).model
    teacher.bbox_head.reg_max = 8
    cfg.model.teacher_config = dict(teacher)
    cfg.model.teacher_ckpt = None
    with warnings.catch_warnings(), pytest.raises(ValueError, match='reg_max'):
        warnings.simplefilter('ignore')
        MODELS.build(cfg.model)
