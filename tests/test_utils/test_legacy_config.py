"""mmdet 2.x config keys (in a config file or --cfg-options) are translated to MMEngine keys or refused with
the replacement named; none is silently ignored. Includes the LD README's two lr-scaling edits."""
import os.path as osp

import pytest
from mmengine.config import Config

from rotated_ld.utils.legacy_config import LEGACY_TOP_KEYS, LegacyConfigError, translate_legacy_keys
from rotated_ld.utils.setup_env import load_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LD_COCO = osp.join(ROOT, 'configs', 'ld', 'ld_gflv1_r101_r50_fpn_coco_1x.py')  # the README's config name


def _user_config(tmp_path, body: str, base: str = LD_COCO) -> str:
    """A config written as the LD README tells a user to (inherit, then edit the relevant portion)."""
    path = tmp_path / 'my_ld.py'
    path.write_text(f'_base_ = {base!r}\n' + body)
    return str(path)


def _readme_lr(samples_per_gpu: int, gpus: int) -> float:
    # the LD README's rule, written out independently: lr = (samples_per_gpu * num_gpu) / 16 * 0.01
    return samples_per_gpu * gpus / 16 * 0.01


@pytest.mark.parametrize('gpus,samples,lr', [(2, 3, 0.00375), (8, 2, 0.01)], ids=['2x3', '8x2'])
def test_readme_lr_scaling_edit_in_a_config_file(tmp_path, gpus, samples, lr):
    assert _readme_lr(samples, gpus) == pytest.approx(lr)  # the README's numbers follow its rule
    path = _user_config(tmp_path, f"optimizer = dict(type='SGD', lr={lr}, momentum=0.9, weight_decay=0.0001)\n"
                                  f'data = dict(\n    samples_per_gpu={samples},\n)\n')
    notes = []
    import rotated_ld.utils.setup_env as setup_env

    cfg = setup_env.finish_config(Config.fromfile(path), path, log=notes.append)
    assert cfg.optim_wrapper.optimizer.lr == lr
    assert cfg.optim_wrapper.optimizer.type == 'SGD' and cfg.optim_wrapper.optimizer.momentum == 0.9
    assert cfg.train_dataloader.batch_size * gpus == samples * gpus == (6 if gpus == 2 else 16)
    assert 'data' not in cfg and 'optimizer' not in cfg  # nothing left behind unread
    assert any('optim_wrapper.optimizer.lr=' + repr(lr) in n for n in notes)
    assert any(f'train_dataloader.batch_size={samples}' in n for n in notes)


@pytest.mark.parametrize('options', [
    ['data.samples_per_gpu=3', 'optimizer.lr=0.00375'],           # as typed after --cfg-options
    {'data.samples_per_gpu': 3, 'optimizer.lr': 0.00375},         # as argparse's DictAction hands them over
], ids=['strings', 'dict'])
def test_readme_lr_scaling_edit_as_cfg_options(options):
    cfg = load_config(LD_COCO, options)
    assert cfg.optim_wrapper.optimizer.lr == 0.00375 and cfg.train_dataloader.batch_size == 3
    assert 'data' not in cfg and 'optimizer' not in cfg


# mmdet-2 key (as --cfg-options) -> (MMEngine key, expected value), on the README's COCO config
TRANSLATED = [
    ({'data.workers_per_gpu': 0}, [('train_dataloader.num_workers', 0), ('val_dataloader.num_workers', 0),
                                   ('train_dataloader.persistent_workers', False)]),
    ({'optimizer_config.grad_clip': dict(max_norm=35, norm_type=2)},
     [('optim_wrapper.clip_grad', dict(max_norm=35, norm_type=2))]),
    ({'total_epochs': 24}, [('train_cfg.max_epochs', 24), ('param_scheduler.1.end', 24)]),
    ({'runner': dict(type='EpochBasedRunner', max_epochs=6)}, [('train_cfg.max_epochs', 6)]),
    ({'evaluation': dict(interval=2, metric='bbox')}, [('train_cfg.val_interval', 2)]),
    ({'checkpoint_config': dict(interval=3, max_keep_ckpts=2)},
     [('default_hooks.checkpoint.interval', 3), ('default_hooks.checkpoint.max_keep_ckpts', 2)]),
    ({'log_config': dict(interval=10, hooks=[dict(type='TextLoggerHook')])}, [('default_hooks.logger.interval', 10)]),
    ({'model.pretrained': 'data/pretrained/resnet50.pth'},
     [('model.backbone.init_cfg', dict(type='Pretrained', checkpoint='data/pretrained/resnet50.pth'))]),
    ({'img_norm_cfg': dict(mean=[1., 2., 3.], std=[4., 5., 6.], to_rgb=False)},
     [('model.data_preprocessor.mean', [1., 2., 3.]), ('model.data_preprocessor.std', [4., 5., 6.]),
      ('model.data_preprocessor.bgr_to_rgb', False)]),
    # LD README "score voting Cluster-DIoU-NMS": test_cfg = dict(nms=dict(type='voting_cluster_diounms', ...))
    ({'test_cfg.nms': dict(type='voting_cluster_diounms', iou_threshold=0.6)},
     [('model.test_cfg.nms', dict(type='voting_cluster_diounms', iou_threshold=0.6)),
      ('model.test_cfg.score_thr', 0.05), ('test_cfg', dict(type='TestLoop'))]),
    ({'train_cfg.assigner.topk': 7}, [('model.train_cfg.assigner', dict(type='ATSSAssigner', topk=7)),
                                      ('train_cfg.max_epochs', 12)]),
    ({'lr_config': dict(policy='step', warmup='linear', warmup_iters=100, warmup_ratio=0.01, step=[3])},
     [('param_scheduler', [dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
                           dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[3], gamma=0.1)])]),
]


def _get(cfg, dotted):
    node = cfg
    for part in dotted.split('.'):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node.to_dict() if hasattr(node, 'to_dict') else node


@pytest.mark.parametrize('options,expected', TRANSLATED, ids=[next(iter(o)) for o, _ in TRANSLATED])
def test_mmdet2_key_is_translated(options, expected):
    cfg = load_config(LD_COCO, options)
    for key, value in expected:
        got = _get(cfg, key)
        if isinstance(got, list):
            got = [g.to_dict() if hasattr(g, 'to_dict') else g for g in got]
        assert got == value, key
    assert not set(LEGACY_TOP_KEYS) & set(cfg.keys())
    assert 'pretrained' not in cfg.model


# untranslatable mmdet-2 keys: refused, and the message names the replacement
REFUSED = [
    ({'data.train.ann_file': 'a.json'}, 'train_dataloader.dataset'),
    ({'optimizer_config.type': 'Fp16OptimizerHook'}, '--amp'),
    ({'fp16': dict(loss_scale=512.)}, '--amp'),
    ({'lr_config.policy': 'CosineAnnealing'}, "dict(type='CosineAnnealingLR'"),
    ({'runner': dict(type='IterBasedRunner', max_iters=100)}, "train_cfg=dict(type='IterBasedTrainLoop'"),
    ({'log_config.hooks': [dict(type='TensorboardLoggerHook')]}, "dict(type='TensorboardVisBackend')"),
    ({'evaluation.save_best': 'bbox_mAP'}, "save_best='coco/bbox_mAP'"),
    ({'evaluation.metric': 'mAP'}, "val_evaluator=dict(type='VOCMetric'"),
    ({'workflow': [('train', 1), ('val', 1)]}, 'train_cfg.val_interval'),
    ({'checkpoint_config.create_symlink': False}, 'last_checkpoint'),
    ({'data.pin_memory': True}, 'train_dataloader'),
]


@pytest.mark.parametrize('options,replacement', REFUSED, ids=[next(iter(o)) for o, _ in REFUSED])
def test_untranslatable_mmdet2_key_is_refused_naming_the_replacement(options, replacement):
    with pytest.raises(LegacyConfigError) as info:
        load_config(LD_COCO, options)
    msg = str(info.value)
    assert '\n' not in msg and 'mmdet 2.x key' in msg and replacement in msg
    assert next(iter(options)).split('.')[0] in msg


def test_refused_in_a_config_file_too(tmp_path):
    path = _user_config(tmp_path, "lr_config = dict(policy='poly', power=0.9)\n")
    with pytest.raises(LegacyConfigError, match='param_scheduler'):
        load_config(path)


def test_whole_ld_repository_schedule_block_translates(tmp_path):
    """The schedule part of the LD repository's VOC configs, pasted under one of ours."""
    base = osp.join(ROOT, 'configs', 'ld', 'ld_gflv1_r101_r18_fpn_voc.py')
    path = _user_config(tmp_path, "optimizer = dict(type='SGD', lr=0.00375, momentum=0.9, weight_decay=0.0001)\n"
                                  'optimizer_config = dict(grad_clip=None)\n'
                                  "lr_config = dict(policy='step', warmup='linear', warmup_iters=500, "
                                  'warmup_ratio=0.001, step=[3])\n'
                                  'total_epochs = 4\n'
                                  'data = dict(samples_per_gpu=3, workers_per_gpu=2)\n'
                                  "evaluation = dict(interval=1, metric='mAP')\n"
                                  "train_cfg = dict(assigner=dict(type='ATSSAssigner', topk=9), allowed_border=-1, "
                                  'pos_weight=-1, debug=False)\n'
                                  "test_cfg = dict(nms_pre=1000, min_bbox_size=0, score_thr=0.05, "
                                  "nms=dict(type='nms', iou_threshold=0.6), max_per_img=100)\n", base=base)
    cfg = load_config(path)
    assert cfg.optim_wrapper.optimizer.lr == 0.00375 and cfg.optim_wrapper.clip_grad is None
    assert cfg.train_cfg.to_dict() == dict(type='EpochBasedTrainLoop', max_epochs=4, val_interval=1)
    assert [s.type for s in cfg.param_scheduler] == ['LinearLR', 'MultiStepLR']
    assert cfg.param_scheduler[1].milestones == [3] and cfg.param_scheduler[0].end == 500
    assert cfg.train_dataloader.batch_size == 3 and cfg.train_dataloader.num_workers == 2
    assert cfg.model.train_cfg.assigner.topk == 9 and cfg.model.test_cfg.nms.iou_threshold == 0.6
    assert cfg.test_cfg.to_dict() == dict(type='TestLoop')
    assert not set(LEGACY_TOP_KEYS) & set(cfg.keys())


def test_mmengine_configs_are_left_alone():
    """Top-level train_cfg / test_cfg of MMEngine meaning (the loops) and model.train_cfg are not touched."""
    cfg = Config(dict(train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=3, val_interval=1),
                      test_cfg=dict(type='TestLoop'),
                      model=dict(type='X', train_cfg=dict(assigner=dict(type='ATSSAssigner', topk=9)),
                                 test_cfg=dict(nms=dict(type='nms', iou_threshold=0.6)))))
    before = cfg.to_dict()
    assert translate_legacy_keys(cfg) == []
    assert cfg.to_dict() == before


@pytest.mark.parametrize('name', ['_base_/schedules/schedule_1x.py', '_base_/schedules/schedule_dota_1x.py',
                                  '_base_/default_runtime.py', 'ld/ld_r18-gfl-r101_fpn_1x_coco.py',
                                  'demo/rotated-ld_r18-slim-rgfl-r18-slim-long_fpn_synthetic-dota_le90.py'])
def test_project_configs_have_no_mmdet2_keys(name):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', name))
    assert translate_legacy_keys(cfg) == []
