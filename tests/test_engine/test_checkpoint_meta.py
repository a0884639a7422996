"""The box convention travels with the model: CheckpointMetaHook writes angle version, box type,
classes and num_classes into checkpoints; load_from / resume / init_detector refuse another convention.

A tiny rotated GFL (R-18 with 2 stages, FPN 8 ch) trained for one iteration on 64 px in-memory
images; CPU, a few seconds.
"""
import copy
import itertools

import pytest
import torch
from mmengine.dataset import BaseDataset
from mmengine.structures import InstanceData

from rotated_ld.apis import init_detector
from rotated_ld.engine.hooks import CheckpointConventionError, CheckpointMetaHook, check_checkpoint_meta
from rotated_ld.registry import DATASETS
from rotated_ld.structures import DetDataSample
from rotated_ld.utils import safe_torch_load
from rotated_ld.version import __version__

CLASSES = ('plane', 'ship', 'tank')
MODEL = dict(
    type='SingleStageDetector',
    data_preprocessor=dict(type='DetDataPreprocessor', mean=[100.0, 110.0, 120.0], std=[50.0, 50.0, 50.0],
                           bgr_to_rgb=True, pad_size_divisor=32),
    backbone=dict(type='ResNet', depth=18, num_stages=2, out_indices=(0, 1)),
    neck=dict(type='FPN', in_channels=[64, 128], out_channels=8, num_outs=2),
    bbox_head=dict(type='RotatedGFLHead', num_classes=3, in_channels=8, feat_channels=8, stacked_convs=1,
                   norm_cfg=None, reg_max=8, strides=(4, 8), angle_version='le90'),
    train_cfg=dict(assigner=dict(type='RotatedATSSAssigner', topk=9)),
    test_cfg=dict(nms_pre=100, min_bbox_size=0, score_thr=0.05, max_per_img=10,
                  nms=dict(type='nms_rotated', iou_threshold=0.1)))


def model_cfg(angle_version='le90', head='RotatedGFLHead', **head_kw):
    cfg = copy.deepcopy(MODEL)
    cfg['bbox_head'].update(type=head, angle_version=angle_version, **head_kw)
    if head == 'GFLHead':
        cfg['bbox_head'].pop('angle_version')
        cfg['train_cfg']['assigner']['type'] = 'ATSSAssigner'
        cfg['test_cfg']['nms']['type'] = 'nms'
    return cfg


@DATASETS.register_module()
class TinyMetaSet(BaseDataset):
    """2 images of 64 px with one rotated box each (in memory); classes from METAINFO or metainfo."""

    METAINFO = dict(classes=CLASSES)

    def __init__(self, **kwargs):
        super().__init__(lazy_init=False, serialize_data=False, **kwargs)

    def load_data_list(self):
        return [dict(idx=i) for i in range(2)]

    def prepare_data(self, idx):
        img = torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8, generator=torch.Generator().manual_seed(idx))
        s = DetDataSample(metainfo=dict(img_id=str(idx), ori_shape=(64, 64), img_shape=(64, 64), pad_shape=(64, 64),
                                        scale_factor=(1.0, 1.0)))
        s.gt_instances = InstanceData(bboxes=torch.tensor([[32.0, 30.0, 30.0, 14.0, 0.3]]), labels=torch.tensor([1]))
        return dict(inputs=img, data_samples=s)


_IDS = itertools.count()  # unique experiment names (MMEngine keeps one logger per name)

def _runner(work_dir, model, classes=None, load_from=None, resume=False, hook=None, iters=1, name='r'):
    from mmengine.runner import Runner

    ds = dict(type='TinyMetaSet')
    if classes is not None:
        ds['metainfo'] = dict(classes=classes)
    return Runner(
        model=model, work_dir=str(work_dir), experiment_name=f'{name}_{next(_IDS)}_{work_dir.name}',
        train_dataloader=dict(batch_size=2, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
                              collate_fn=dict(type='pseudo_collate'), dataset=ds),
        train_cfg=dict(by_epoch=False, max_iters=iters),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.001)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1, by_epoch=False)),
        custom_hooks=[hook or dict(type='CheckpointMetaHook')],
        load_from=load_from, resume=resume, default_scope='rotated_ld')


def _log_text(work_dir):
    return '\n'.join(p.read_text() for p in sorted(work_dir.rglob('*.log')))


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """One iteration of a le90 rotated GFL through the Runner: iter_1.pth with the convention meta."""
    work = tmp_path_factory.mktemp('le90')
    torch.manual_seed(0)
    _runner(work, model_cfg()).train()
    return work / 'iter_1.pth'


def _resave(src, dst, **meta_changes):
    ckpt = safe_torch_load(str(src))
    for k, v in meta_changes.items():
        if v is None:
            ckpt['meta'].pop(k, None)
        else:
            ckpt['meta'][k] = v
    torch.save(ckpt, dst)
    return str(dst)


# ------------------------------------------------------------------ written on save
def test_every_checkpoint_carries_the_convention(trained):
    meta = safe_torch_load(str(trained))['meta']  # plain types: loads with weights_only=True
    assert meta['angle_version'] == 'le90' and meta['box_type'] == 'rbox' and meta['num_classes'] == 3
    assert meta['classes'] == list(CLASSES) and meta['rotated_ld_version'] == __version__


def test_default_runtime_has_the_hook():
    from mmengine.config import Config

    cfg = Config.fromfile('configs/_base_/default_runtime.py')
    types = [h['type'] for h in cfg.custom_hooks]
    assert types[0] == 'NonFiniteCheckHook' and 'CheckpointMetaHook' in types and 'TeacherEvalHook' in types


# ------------------------------------------------------------------ checked on load through the Runner
def test_load_from_with_another_angle_version_is_refused(trained, tmp_path):
    runner = _runner(tmp_path, model_cfg('le135'), load_from=str(trained))
    with pytest.raises(CheckpointConventionError) as e:
        runner.train()
    msg = str(e.value)
    assert 'checkpoint was trained with angle_version=le90, the config says le135' in msg
    assert "set angle_version='le90'" in msg and 'convert_rbox_version(boxes, ' in msg and str(trained) in msg
    assert runner.iter == 0


def test_resume_with_another_angle_version_is_refused(trained, tmp_path):
    with pytest.raises(CheckpointConventionError, match='angle_version=le90, the config says oc'):
        _runner(tmp_path, model_cfg('oc'), load_from=str(trained), resume=True, iters=2).train()


def test_same_convention_resumes(trained, tmp_path):
    runner = _runner(tmp_path, model_cfg('le90'), load_from=str(trained), resume=True, iters=2)
    runner.train()
    assert runner.iter == 2 and safe_torch_load(str(tmp_path / 'iter_2.pth'))['meta']['classes'] == list(CLASSES)


def test_class_list_mismatch_is_refused_unless_warned(trained, tmp_path):
    other = ('plane', 'tank', 'ship')
    with pytest.raises(CheckpointConventionError, match=r"another order \(first difference at index 1: "
                                                        r"checkpoint 'ship', the config 'tank'\)"):
        _runner(tmp_path / 'a', model_cfg(), classes=other, load_from=str(trained)).train()
    with pytest.raises(CheckpointConventionError, match=r"only in the config: \('car',\)"):
        _runner(tmp_path / 'b', model_cfg(), classes=('plane', 'ship', 'car'), load_from=str(trained)).train()
    runner = _runner(tmp_path / 'c', model_cfg(), classes=other, load_from=str(trained),
                     hook=dict(type='CheckpointMetaHook', on_mismatch='warn'))
    runner.train()
    assert runner.iter == 1 and 'class lists differ' in _log_text(tmp_path / 'c')


def test_num_classes_and_box_type_mismatch_are_refused(trained, tmp_path):
    with pytest.raises(CheckpointConventionError, match='checkpoint has num_classes=3, the config has 4'):
        _runner(tmp_path / 'a', model_cfg(num_classes=4), classes=CLASSES + ('car',), load_from=str(trained)).train()
    with pytest.raises(CheckpointConventionError, match=r"rotated boxes \(box_type='rbox', angle_version=le90\), "
                                                        r"the config builds a model for horizontal boxes"):
        _runner(tmp_path / 'b', model_cfg(head='GFLHead'), load_from=str(trained)).train()


def test_old_checkpoint_loads_with_a_warning(trained, tmp_path):
    old = _resave(trained, tmp_path / 'old.pth', angle_version=None, box_type=None, classes=None,
                  num_classes=None, rotated_ld_version=None)
    runner = _runner(tmp_path / 'w', model_cfg('le135'), load_from=old)
    runner.train()
    log = _log_text(tmp_path / 'w')
    assert 'has no rotated_ld convention meta' in log and "angle_version='le135'" in log and runner.iter == 1


# ------------------------------------------------------------------ init_detector
def _config_file(tmp_path, angle_version='le90', classes=CLASSES, name='cfg.py'):
    path = tmp_path / name
    path.write_text(f"default_scope = 'rotated_ld'\nmodel = {model_cfg(angle_version)!r}\n"
                    f"test_dataloader = dict(dataset=dict(type='TinyMetaSet', metainfo=dict(classes={classes!r}),"
                    " pipeline=[]))\n")
    return str(path)


def test_init_detector_checks_the_convention(trained, tmp_path):
    model = init_detector(_config_file(tmp_path), str(trained), device='cpu')
    assert model.dataset_meta['classes'] == list(CLASSES) or tuple(model.dataset_meta['classes']) == CLASSES
    with pytest.raises(CheckpointConventionError, match='angle_version=le90, config .* says le135.*strict=False'):
        init_detector(_config_file(tmp_path, 'le135', name='le135.py'), str(trained), device='cpu')
    with pytest.raises(CheckpointConventionError, match='class lists differ'):
        init_detector(_config_file(tmp_path, classes=('a', 'b', 'c'), name='abc.py'), str(trained), device='cpu')
    with pytest.warns(UserWarning, match='angle_version=le90'):
        init_detector(_config_file(tmp_path, 'le135', name='le135.py'), str(trained), device='cpu', strict=False)
    old = _resave(trained, tmp_path / 'old.pth', rotated_ld_version=None)
    with pytest.warns(UserWarning, match='no rotated_ld convention meta'):
        init_detector(_config_file(tmp_path, 'le135', name='le135.py'), old, device='cpu')


# ------------------------------------------------------------------ the check itself
def test_check_checkpoint_meta_unit():
    meta = dict(angle_version=None, box_type='hbox', num_classes=3, classes=list(CLASSES), rotated_ld_version='0')
    assert check_checkpoint_meta(meta, None, CLASSES) == []
    with pytest.raises(CheckpointConventionError, match='only in the checkpoint'):
        check_checkpoint_meta(meta, None, ('plane', 'ship'))
    found = []
    problems = check_checkpoint_meta(meta, None, ('plane', 'ship'), on_mismatch='warn', warn=found.append)
    assert len(problems) == 1 and found and 'on_mismatch=warn' in found[0]
    # mmdet 2 checkpoints keep their classes in meta.CLASSES: named in the warning
    check_checkpoint_meta(dict(CLASSES=('x', 'y')), None, CLASSES, warn=found.append)
    assert 'no rotated_ld convention meta' in found[-1] and "only in the checkpoint: ('x', 'y')" in found[-1]
    with pytest.raises(ValueError, match='on_mismatch'):
        CheckpointMetaHook(on_mismatch='ignore')


def test_kd_options_are_not_passed_to_the_inference_student():
    from rotated_ld.apis import student_model_cfg

    cfg = dict(type='KDSingleStageDetector', teacher_config='t.py', teacher_ckpt='t.pth', teacher_strict=False,
               eval_teacher_first=True, backbone=dict(type='X'))
    assert student_model_cfg(cfg) == dict(type='SingleStageDetector', backbone=dict(type='X'))
