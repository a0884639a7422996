"""Teacher safety: strict teacher checkpoints, teacher ↔ student checks, eval_teacher_first.

Tiny models (R-18 with 2 stages, FPN 8 ch, 1-conv heads) on 64 px images; CPU, a few seconds each.
"""
import copy
import itertools

import pytest
import torch
from mmengine.dataset import BaseDataset
from mmengine.evaluator import BaseMetric
from mmengine.structures import InstanceData

from rotated_ld.engine.hooks import CheckpointConventionError, TeacherEvalHook, TeacherUntrainedError
from rotated_ld.engine.hooks.teacher_eval_hook import classwise_metrics, gap_table, main_metric_key
from rotated_ld.models.detectors.teacher_checks import TeacherCheckpointError, TeacherCompatError, summarize_keys
from rotated_ld.registry import DATASETS, METRICS, MODELS
from rotated_ld.structures import DetDataSample

PRE = dict(type='DetDataPreprocessor', mean=[100.0, 110.0, 120.0], std=[50.0, 50.0, 50.0], bgr_to_rgb=True,
           pad_size_divisor=32)
CLASSES = ('plane', 'ship', 'tank')


def tiny(head='RotatedGFLHead', **head_kw):
    """A tiny detector; rotated (RotatedGFLHead / RotatedLDHead) unless a horizontal head is named."""
    rotated = head.startswith('Rotated')
    bbox_head = dict(type=head, num_classes=3, in_channels=8, feat_channels=8, stacked_convs=1, norm_cfg=None,
                     reg_max=8, strides=(4, 8))
    if 'Retina' in head:
        bbox_head = dict(type=head, num_classes=3, in_channels=8, feat_channels=8, stacked_convs=1, reg_max=8,
                         anchor_generator=dict(type='RotatedAnchorGenerator', strides=[4, 8]))
    bbox_head.update(head_kw)
    assigner = dict(type='RotatedATSSAssigner' if rotated else 'ATSSAssigner', topk=9)
    test_cfg = dict(nms_pre=100, min_bbox_size=0, score_thr=0.05, max_per_img=10,
                    nms=dict(type='nms_rotated' if rotated else 'nms', iou_threshold=0.1))
    if 'Retina' in head:
        assigner = dict(type='MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.4, min_pos_iou=0)
    return dict(type='SingleStageDetector', data_preprocessor=PRE,
                backbone=dict(type='ResNet', depth=18, num_stages=2, out_indices=(0, 1)),
                neck=dict(type='FPN', in_channels=[64, 128], out_channels=8, num_outs=2),
                bbox_head=bbox_head, train_cfg=dict(assigner=assigner), test_cfg=test_cfg)


def kd(teacher_cfg, teacher_ckpt=None, student_head='RotatedLDHead', **kw):
    cfg = tiny(student_head, **kw.pop('head_kw', {}))
    cfg.update(type='KDSingleStageDetector', teacher_config=dict(model=teacher_cfg), teacher_ckpt=teacher_ckpt, **kw)
    return cfg


@pytest.fixture(scope='module')
def teacher_file(tmp_path_factory):
    """A rotated teacher checkpoint in the layout the Runner writes (with convention meta)."""
    torch.manual_seed(3)
    teacher = MODELS.build(tiny())
    path = tmp_path_factory.mktemp('teacher') / 'teacher.pth'
    meta = dict(epoch=1, angle_version='le90', box_type='rbox', num_classes=3, classes=list(CLASSES),
                rotated_ld_version='0.1.0')
    torch.save(dict(meta=meta, state_dict=teacher.state_dict()), path)
    return str(path), teacher.state_dict(), meta


def _save(path, state, meta=None):
    torch.save(dict(meta=meta or {}, state_dict=state), path)
    return str(path)


# ------------------------------------------------------------------ strict teacher checkpoints
def test_good_teacher_loads_and_keeps_its_meta(teacher_file):
    path, state, meta = teacher_file
    model = MODELS.build(kd(tiny(), path))
    for k, v in model.teacher.state_dict().items():
        torch.testing.assert_close(v, state[k])
    assert model.teacher_ckpt_meta['angle_version'] == 'le90'
    assert not any('teacher' in k for k in model.state_dict())  # still not a submodule


def test_teacher_without_head_keys_is_refused_with_the_key_list(teacher_file, tmp_path):
    path, state, meta = teacher_file
    cut = {k: v for k, v in state.items() if not k.startswith(('bbox_head.gfl_cls', 'bbox_head.gfl_reg'))}
    bad = _save(tmp_path / 'no_head.pth', cut, meta)
    with pytest.raises(TeacherCheckpointError) as e:
        MODELS.build(kd(tiny(), bad))
    msg = str(e.value)
    assert bad in msg and '4 missing from the checkpoint' in msg
    for k in ('bbox_head.gfl_cls.weight', 'bbox_head.gfl_cls.bias', 'bbox_head.gfl_reg.weight',
              'bbox_head.gfl_reg.bias'):
        assert k in msg
    assert 'teacher_strict=False' in msg
    assert isinstance(e.value, RuntimeError)  # older callers catch RuntimeError


def test_unexpected_and_misshaped_keys_are_refused(teacher_file, tmp_path):
    path, state, meta = teacher_file
    extra = dict(state, **{'bbox_head.extra_conv.weight': torch.zeros(2)})
    extra['bbox_head.gfl_angle.bias'] = torch.zeros(7)
    bad = _save(tmp_path / 'extra.pth', extra, meta)
    with pytest.raises(TeacherCheckpointError, match=r'1 unexpected in the checkpoint: bbox_head.extra_conv.weight'
                       r'.*bbox_head.gfl_angle.bias \(7,\) vs \(36,\)'):
        MODELS.build(kd(tiny(), bad))


def test_opt_out_loads_what_fits_with_a_warning(teacher_file, tmp_path):
    path, state, meta = teacher_file
    cut = {k: v for k, v in state.items() if not k.startswith('bbox_head.gfl_cls')}
    bad = _save(tmp_path / 'no_cls.pth', cut, meta)
    listed = r'2 missing from the checkpoint: bbox_head.gfl_cls.bias, bbox_head.gfl_cls.weight'
    with pytest.warns(UserWarning, match=listed + '.*teacher_strict=False'):
        model = MODELS.build(kd(tiny(), bad, teacher_strict=False))
    key = 'bbox_head.gfl_reg.weight'
    torch.testing.assert_close(model.teacher.state_dict()[key], state[key])


def test_foreign_checkpoint_names_no_common_key(tmp_path):
    bad = _save(tmp_path / 'foreign.pth', {'model.0.weight': torch.zeros(3)})
    with pytest.raises(TeacherCheckpointError, match='none of its 1 weights.*another architecture'):
        MODELS.build(kd(tiny(), bad, teacher_strict=False))


def test_url_teacher_is_refused():
    with pytest.raises(ValueError, match='only local files'):
        MODELS.build(kd(tiny(), 'https://example.com/t.pth'))


def test_many_keys_are_grouped_by_prefix():
    keys = [f'backbone.layer1.{i}.conv{j}.weight' for i in range(4) for j in range(3)]
    keys += ['bbox_head.gfl_cls.weight', 'bbox_head.gfl_cls.bias', 'neck.lateral.weight']
    text = summarize_keys(keys, max_items=6)
    assert 'backbone.layer1.* (12)' in text and 'bbox_head.gfl_cls.{bias, weight}' in text
    assert summarize_keys(['a.b', 'c.d']) == 'a.b, c.d'


def test_teacher_checkpoint_of_another_angle_version_is_refused(teacher_file, tmp_path):
    path, state, meta = teacher_file
    other = _save(tmp_path / 'le135.pth', state, dict(meta, angle_version='le135'))
    with pytest.raises(CheckpointConventionError) as e:
        MODELS.build(kd(tiny(), other))
    msg = str(e.value)
    assert 'angle_version=le135' in msg and 'says le90' in msg and 'convert_rbox_version' in msg
    with pytest.warns(UserWarning, match='angle_version=le135'):
        MODELS.build(kd(tiny(), other, teacher_strict=False))


def test_old_teacher_checkpoint_loads_with_a_warning(teacher_file, tmp_path):
    path, state, meta = teacher_file
    old = _save(tmp_path / 'old.pth', state, dict(epoch=3))
    with pytest.warns(UserWarning, match='no rotated_ld convention meta'):
        MODELS.build(kd(tiny(), old))


# ------------------------------------------------------------------ compatibility at build
@pytest.mark.parametrize('teacher_kw,student_kw,attr,t_val,s_val', [
    (dict(num_classes=5), {}, 'num_classes', '5', '3'),
    (dict(reg_max=16), {}, 'reg_max', '16', '8'),
    (dict(strides=(8, 16)), {}, 'strides', '((8, 8), (16, 16))', '((4, 4), (8, 8))'),
    (dict(angle_version='le135'), {}, 'angle_version', "'le135'", "'le90'"),
    (dict(angle_coder=dict(type='CircularAngleCoder', angle_bins=18)), {}, 'angle_bins', '18', '36'),
])
def test_rotated_mismatch_names_both_values_and_the_key(teacher_kw, student_kw, attr, t_val, s_val):
    with pytest.warns(UserWarning, match='teacher_ckpt=None'):
        with pytest.raises(TeacherCompatError) as e:
            MODELS.build(kd(tiny(**teacher_kw), head_kw=student_kw))
    msg = str(e.value)
    assert f'{attr}: teacher={t_val}, student={s_val}' in msg, msg
    assert 'config key: bbox_head.' in msg or 'config key: top-level angle_version' in msg
    assert isinstance(e.value, ValueError)


def test_horizontal_teacher_for_rotated_student_is_refused():
    with pytest.warns(UserWarning), pytest.raises(TeacherCompatError,
                                                  match="box_type: teacher='hbox', student='rbox'"):
        MODELS.build(kd(tiny('GFLHead')))


def test_retina_delta_supports_and_anchors_are_checked():
    retina = 'RotatedRetinaHead'
    with pytest.warns(UserWarning), pytest.raises(TeacherCompatError, match='delta_ranges: teacher='):
        MODELS.build(kd(tiny(retina, delta_ranges=[[-2, 2]] * 4 + [[-1.5, 1.5]]), student_head='RotatedLDRetinaHead'))
    anchors = dict(type='RotatedAnchorGenerator', strides=[4, 8], ratios=[1.0, 0.5, 2.0], center_offset=0.5)
    with pytest.warns(UserWarning), pytest.raises(TeacherCompatError, match='prior_layout: teacher='):
        MODELS.build(kd(tiny(retina, anchor_generator=anchors), student_head='RotatedLDRetinaHead'))
    with pytest.warns(UserWarning):  # the same teacher config builds
        MODELS.build(kd(tiny(retina), student_head='RotatedLDRetinaHead'))


def test_horizontal_ld_mismatch():
    with pytest.warns(UserWarning), pytest.raises(TeacherCompatError, match='reg_max: teacher=16, student=8'):
        MODELS.build(kd(tiny('GFLHead', reg_max=16), student_head='LDHead'))


# ------------------------------------------------------------------ eval_teacher_first
@DATASETS.register_module()
class TinyRotatedSet(BaseDataset):
    """4 images of 64 px with one rotated box each (in memory)."""

    METAINFO = dict(classes=CLASSES)

    def __init__(self, n=4, **kwargs):
        self.n = n
        super().__init__(lazy_init=False, serialize_data=False, **kwargs)

    def load_data_list(self):
        return [dict(idx=i) for i in range(self.n)]

    def prepare_data(self, idx):
        g = torch.Generator().manual_seed(idx)
        img = torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8, generator=g)
        s = DetDataSample(metainfo=dict(img_id=f'img{idx}', img_path=f'img{idx}.png', ori_shape=(64, 64),
                                        img_shape=(64, 64), pad_shape=(64, 64), scale_factor=(1.0, 1.0)))
        s.gt_instances = InstanceData(bboxes=torch.tensor([[32.0, 30.0, 30.0, 14.0, 0.3]]),
                                      labels=torch.tensor([idx % 3]))
        s.ignored_instances = InstanceData(bboxes=torch.zeros(0, 5), labels=torch.zeros(0, dtype=torch.long))
        return dict(inputs=img, data_samples=s)


@METRICS.register_module()
class ScriptedMAP(BaseMetric):
    """Counts predictions; reports ``mAP`` = ``value`` and per-class ``AP50_<class>`` (for the hook tests)."""

    value = 0.5

    def process(self, data_batch, data_samples):
        self.results.extend(len(d['pred_instances']['scores']) for d in data_samples)

    def compute_metrics(self, results):
        out = dict(mAP=ScriptedMAP.value, n_dets=float(sum(results)))
        for i, c in enumerate(self.dataset_meta['classes']):
            out[f'AP50_{c}'] = ScriptedMAP.value / (i + 1)
        return out


_IDS = itertools.count()  # unique experiment names (MMEngine keeps one logger per name)

def _runner(tmp_path, model_cfg, metric='ScriptedMAP', val=True, hook_kw=None, name='t'):
    from mmengine.runner import Runner

    loader = dict(batch_size=2, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
                  collate_fn=dict(type='pseudo_collate'), dataset=dict(type='TinyRotatedSet'))
    return Runner(
        model=model_cfg, work_dir=str(tmp_path), experiment_name=f'{name}_{next(_IDS)}_{tmp_path.name}',
        train_dataloader=loader, train_cfg=dict(by_epoch=False, max_iters=1, val_interval=1),
        val_dataloader=loader if val else None, val_cfg=dict() if val else None,
        val_evaluator=dict(type=metric, prefix='dota') if val else None,
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.001)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=100), logger=dict(type='LoggerHook',
                                                                                                interval=1)),
        custom_hooks=[dict(type='CheckpointMetaHook'), dict(type='TeacherEvalHook', **(hook_kw or {}))],
        default_scope='rotated_ld', log_level='INFO')


def _log_text(work_dir):
    return '\n'.join(p.read_text() for p in sorted(work_dir.rglob('*.log')))


def test_untrained_teacher_stops_the_run(tmp_path, teacher_file):
    """A real DOTAMetric on a randomly initialised teacher: no detection, mAP 0.000 → stop."""
    path, _, meta = teacher_file
    untrained = MODELS.build(tiny())  # the random init, saved as if it were a trained teacher
    ckpt = _save(tmp_path / 'untrained.pth', untrained.state_dict(), meta)
    runner = _runner(tmp_path, kd(tiny(), ckpt, eval_teacher_first=True), metric='DOTAMetric')
    with pytest.raises(TeacherUntrainedError) as e:
        runner.train()
    msg = str(e.value)
    assert 'the teacher is absent or untrained: its dota/mAP on the validation set is 0.000' in msg
    assert f'check teacher_ckpt={ckpt}' in msg
    assert runner.iter == 0  # stopped before the first iteration


def test_trained_teacher_passes_and_gap_is_reported(tmp_path, teacher_file, monkeypatch):
    path, _, _ = teacher_file
    ScriptedMAP.value = 0.5
    calls = []
    real = TeacherEvalHook.evaluate_teacher

    def spy(teacher, dataloader, evaluator):
        calls.append(type(teacher).__name__)
        return real(teacher, dataloader, evaluator)

    monkeypatch.setattr(TeacherEvalHook, 'evaluate_teacher', staticmethod(spy))
    runner = _runner(tmp_path, kd(tiny(), path, eval_teacher_first=True))
    runner.train()
    log = _log_text(tmp_path)
    assert calls == ['SingleStageDetector'] and runner.iter == 1
    assert 'teacher/dota/mAP: 0.5000' in log
    assert 'student dota/mAP 0.5000 | teacher/dota/mAP 0.5000' in log
    assert 'teacher-student gap' in log and '| ship ' in log and '| dota/mAP' in log
    assert runner.message_hub.get_info('teacher_metrics')['dota/mAP'] == 0.5


def test_scripted_zero_metric_stops_and_threshold_is_configurable(tmp_path, teacher_file):
    path, _, _ = teacher_file
    ScriptedMAP.value = 0.0
    try:
        with pytest.raises(TeacherUntrainedError, match='is 0.000'):
            _runner(tmp_path, kd(tiny(), path, eval_teacher_first=True), name='a').train()
        ScriptedMAP.value = 0.05
        with pytest.raises(TeacherUntrainedError, match=r'is 0.050 \(< 0.1\)'):
            _runner(tmp_path, kd(tiny(), path), hook_kw=dict(eval_teacher_first=True, min_teacher_metric=0.1),
                    name='b').train()
    finally:
        ScriptedMAP.value = 0.5


def test_without_val_loader_the_hook_says_so_and_training_goes_on(tmp_path, teacher_file):
    path, _, _ = teacher_file
    runner = _runner(tmp_path, kd(tiny(), path, eval_teacher_first=True), val=False)
    runner.train()
    assert 'eval_teacher_first=True needs a validation dataloader' in _log_text(tmp_path) and runner.iter == 1


def test_teacher_trained_on_other_classes_is_refused_before_training(tmp_path, teacher_file):
    path, state, meta = teacher_file
    other = _save(tmp_path / 'other_classes.pth', state, dict(meta, classes=['plane', 'tank', 'ship']))
    with pytest.raises(CheckpointConventionError, match="another order .*index 1: checkpoint 'tank'"):
        _runner(tmp_path, kd(tiny(), other)).train()


def test_metric_helpers():
    m = {'dota/mAP': 0.4, 'dota/AP50': 0.5, 'dota/AP50_ship': 0.3, 'coco/bbox_tank_precision': 0.2}
    assert main_metric_key(m) == 'dota/mAP' and main_metric_key(m, 'AP50') == 'dota/AP50'
    assert main_metric_key({'coco/bbox_mAP': 0.1}) == 'coco/bbox_mAP' and main_metric_key({'x': 1}) is None
    assert classwise_metrics(m, CLASSES) == {'ship': 0.3, 'tank': 0.2}
    table = gap_table(m, dict(m, **{'dota/AP50_ship': 0.1, 'dota/mAP': 0.3}), CLASSES, 'dota/mAP')
    assert '| ship     |  0.3000 |  0.1000 | 0.2000 |' in table and '0.1000 |' in table.splitlines()[-2]


def test_hook_is_a_no_op_for_models_without_teacher(tmp_path):
    runner = _runner(tmp_path, copy.deepcopy(tiny()), hook_kw=dict())
    runner.train()  # no eval_teacher_first on a plain detector: nothing happens, no error
    assert runner.iter == 1
