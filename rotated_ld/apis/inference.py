"""Build a detector from a config + checkpoint and run it on images (mmdet 3 ``apis`` contract).

* :func:`init_detector` — config path / :class:`Config`, local checkpoint, device. Distillation
  configs (``KDSingleStageDetector``) are built as their student (``SingleStageDetector``): the
  teacher is not needed for inference and is not in published checkpoints. Loading is strict
  and explained: a missing file raises ``FileNotFoundError``; a checkpoint of another
  architecture raises :class:`CheckpointMismatchError` naming the first missing / unexpected /
  differently-shaped weights on one line.
* :func:`inference_detector` — image paths or BGR uint8 arrays, run in batches through the
  config's test pipeline (``test_dataloader.dataset.pipeline``); arrays skip the loading step.
  Returns ``DetDataSample`` (one input) or a list, predictions in original-image pixels.
"""
from __future__ import annotations

import copy
import os.path as osp
import warnings
from typing import Optional, Sequence, Union

import cv2
import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

from rotated_ld.registry import DATASETS, MODELS, TRANSFORMS
from rotated_ld.utils.checkpoint import diff_state_dict, safe_torch_load, unwrap_state_dict
from rotated_ld.utils.checkpoint_meta import check_checkpoint_meta
from rotated_ld.utils.setup_env import finish_config

__all__ = ['init_detector', 'inference_detector', 'prepare_batch', 'run_batch', 'build_test_pipeline',
           'CheckpointMismatchError',
           'check_state_dict', 'extract_state_dict', 'partial_load_counts',
           'is_distill_key', 'student_model_cfg', 'ImageInput']

ImageInput = Union[str, np.ndarray]
# state-dict path components of teacher / distillation-only weights (never part of the student)
DISTILL_COMPONENTS = ('teacher', '_teacher', 'teacher_model', 'distill_adapters')
_KD_KEYS = ('teacher_config', 'teacher_ckpt', 'eval_teacher', 'teacher_cfg', 'teacher_strict', 'eval_teacher_first',
           'teacher_channels_last')


class CheckpointMismatchError(ValueError):
    """The checkpoint's weights do not fit the model built from the config."""


def is_distill_key(key: str) -> bool:
    """True for a state-dict key of the teacher or of distillation-only modules."""
    return any(part in DISTILL_COMPONENTS for part in key.split('.'))


def student_model_cfg(model_cfg: dict) -> dict:
    """The student of a KD detector config (type ``SingleStageDetector``, no teacher entries)."""
    cfg = copy.deepcopy(dict(model_cfg))
    if cfg.get('type') == 'KDSingleStageDetector' or any(k in cfg for k in _KD_KEYS):
        for k in _KD_KEYS:
            cfg.pop(k, None)
        cfg['type'] = 'SingleStageDetector'
    return cfg


def _load_config(config: Union[str, Config], cfg_options: Optional[dict]) -> Config:
    if isinstance(config, (str, bytes)) or hasattr(config, '__fspath__'):
        path = str(config)
        if not osp.isfile(path):
            raise FileNotFoundError(f'config file not found: {path}')
        # alias notice, --cfg-options, mmdet 2.x keys: as every tool (setup_env.load_config)
        config = finish_config(Config.fromfile(path), path, cfg_options)
    elif not isinstance(config, Config):
        raise TypeError(f'config must be a file path or a Config, got {type(config).__name__}')
    else:
        config = finish_config(copy.deepcopy(config), getattr(config, 'filename', None) or '<config>',
                               cfg_options)
    if 'model' not in config:
        raise ValueError(f'config {getattr(config, "filename", "")} has no `model` entry')
    return config


def extract_state_dict(ckpt, path: str) -> dict:
    """The student weights of a loaded checkpoint (``state_dict`` / ``model`` key or a bare state dict;
    ``module.`` prefixes stripped, teacher / distillation-only weights dropped)."""
    state, _ = unwrap_state_dict(ckpt, path, CheckpointMismatchError)
    return {k: v for k, v in state.items() if not is_distill_key(k)}


_IGNORED = ('num_batches_tracked',)


def _diff_model_state(own: dict, state_dict: dict):
    """:func:`diff_state_dict` of a checkpoint against the model, as both loaders see it: BN counters
    ignored both ways; distillation-only weights of the student (dropped by publish_model) are not
    needed from the checkpoint."""
    return diff_state_dict(own, state_dict, skip_missing=lambda k: k.endswith(_IGNORED) or is_distill_key(k),
                           skip_unexpected=lambda k: k.endswith(_IGNORED))


def partial_load_counts(model: nn.Module, state_dict: dict) -> str:
    """One line with how much of ``state_dict`` fits ``model``: loaded / missing / unexpected / mis-shaped."""
    own = model.state_dict()
    diff = _diff_model_state(own, state_dict)
    loaded = diff.common - len(diff.shapes)
    total = sum(1 for k in own if not k.endswith(_IGNORED) and not is_distill_key(k))
    return (f'{loaded} of the model\'s {total} weights loaded; {len(diff.missing)} missing from the checkpoint, '
            f'{len(diff.unexpected)} unexpected, {len(diff.shapes)} with another shape (left at their initial values)')


def check_state_dict(model: nn.Module, state_dict: dict, ckpt_path: str, config_name: str) -> None:
    """Raise :class:`CheckpointMismatchError` when ``state_dict`` does not fit ``model`` exactly."""
    own = model.state_dict()
    diff = _diff_model_state(own, state_dict)
    if not (diff.missing or diff.unexpected or diff.shapes):
        return
    hint = ' (no weight names in common: a checkpoint of another architecture?)' if not diff.common else ''
    raise CheckpointMismatchError(f'checkpoint {ckpt_path} does not fit the model of {config_name}{hint}: '
                                  + diff.describe(state_dict, own, 'model'))


def _auto_device(device: Optional[str]) -> str:
    if device is None:
        return 'cuda:0' if torch.cuda.is_available() else 'cpu'
    return str(device)


def init_detector(config: Union[str, Config], checkpoint: Optional[str] = None, device: Optional[str] = None,
                  cfg_options: Optional[dict] = None, palette: Optional[str] = None,
                  strict: bool = True) -> nn.Module:
    """Build the detector of ``config`` and load ``checkpoint`` (student only for KD configs).

    Args:
        config: config file path or :class:`Config`.
        checkpoint: local checkpoint (MMEngine / mmdet layout or a bare state dict); None keeps the
            random initialisation.
        device: ``'cpu'``, ``'cuda:0'``, ...; None picks CUDA when available.
        cfg_options: overrides merged into the config (``--cfg-options`` style dict).
        palette: optional palette stored in ``model.dataset_meta``.
        strict: raise :class:`CheckpointMismatchError` on any missing / unexpected / mis-shaped
            weight, and ``CheckpointConventionError`` when the checkpoint ``meta`` names another angle
            version, box type or class list than the config (default); False loads what fits and
            warns. Checkpoints without that meta (older / foreign) load with a warning.

    Returns:
        nn.Module: the model in eval mode on ``device``, with ``model.cfg`` and ``model.dataset_meta``
        (``classes`` from the checkpoint's ``meta.dataset_meta``, else from the config).
    """

    cfg = _load_config(config, cfg_options)
    config_name = getattr(cfg, 'filename', None) or 'the config'
    if checkpoint is not None and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint file not found: {checkpoint}')
    init_default_scope(cfg.get('default_scope', 'rotated_ld'))
    model_cfg = student_model_cfg(cfg.model)
    # no pretrained downloads at inference: the checkpoint provides the weights
    if isinstance(model_cfg.get('backbone'), dict):
        model_cfg['backbone'] = dict(model_cfg['backbone'], init_cfg=None)
    model = MODELS.build(model_cfg)
    cfg.model = model_cfg
    meta = {}
    if checkpoint is not None:
        ckpt = safe_torch_load(checkpoint, 'cpu')
        state_dict = extract_state_dict(ckpt, checkpoint)
        if strict:
            check_state_dict(model, state_dict, checkpoint, config_name)
        result = model.load_state_dict(state_dict, strict=False)
        if not strict and (result.missing_keys or result.unexpected_keys):
            warnings.warn(f'{checkpoint}: {len(result.missing_keys)} missing, '
                          f'{len(result.unexpected_keys)} unexpected weights', stacklevel=2)
        meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
        # the box convention (angle version, box type, classes) must be the config's
        check_checkpoint_meta(meta, model, _config_metainfo(cfg).get('classes'), source=f'checkpoint {checkpoint}',
                              target=f'config {config_name}', on_mismatch='error' if strict else 'warn',
                              opt_out='init_detector(..., strict=False)')
    dataset_meta = dict(meta.get('dataset_meta') or {}) if isinstance(meta, dict) else {}
    if not dataset_meta.get('classes'):
        dataset_meta.update(_config_metainfo(cfg))
    if not dataset_meta.get('classes'):
        n = getattr(getattr(model, 'bbox_head', None), 'num_classes', None)
        if n:
            dataset_meta['classes'] = tuple(f'class_{i}' for i in range(n))
    if palette is not None:
        dataset_meta['palette'] = palette
    model.dataset_meta = dataset_meta
    model.cfg = cfg
    model.to(_auto_device(device))
    model.eval()
    return model


def _dataset_cfg(cfg: Config) -> Optional[dict]:
    for key in ('test_dataloader', 'val_dataloader'):
        loader = cfg.get(key)
        if isinstance(loader, dict) and isinstance(loader.get('dataset'), dict):
            ds = loader['dataset']
            while isinstance(ds.get('dataset'), dict) and 'pipeline' not in ds:
                ds = ds['dataset']  # wrappers (RepeatDataset, ...)
            return ds
    return None


def _config_metainfo(cfg: Config) -> dict:
    ds = _dataset_cfg(cfg) or {}
    meta = dict(ds.get('metainfo') or {})
    if not meta.get('classes'):
        try:
            cls = DATASETS.get(ds.get('type')) if ds.get('type') else None
        except Exception:  # the dataset package may be incomplete; classes are optional here
            cls = None
        if cls is not None and isinstance(getattr(cls, 'METAINFO', None), dict):
            meta = dict(cls.METAINFO, **meta)
    return meta


def _is_loader(t: dict) -> bool:
    return 'LoadImage' in str(t.get('type', ''))


def build_test_pipeline(cfg: Config, from_array: bool = False) -> Compose:
    """The config's test pipeline (``test_pipeline`` or ``test_dataloader.dataset.pipeline``),
    without annotation loading; with ``from_array`` also without the image-loading step."""
    pipeline = cfg.get('test_pipeline')
    if pipeline is None:
        ds = _dataset_cfg(cfg)
        pipeline = ds.get('pipeline') if ds else None
    if not pipeline:
        raise ValueError('the config has no test pipeline (test_dataloader.dataset.pipeline)')
    steps = [copy.deepcopy(dict(t)) for t in pipeline
             if 'LoadAnnotations' not in str(t.get('type', '')) and 'LoadRAnnotations' not in str(t.get('type', ''))]
    if from_array:
        steps = [t for t in steps if not _is_loader(t)]
    return Compose([TRANSFORMS.build(t) for t in steps])


def read_image(path: str) -> np.ndarray:
    """Read a BGR uint8 image; ``FileNotFoundError`` / ``OSError`` with the path on failure."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'image not found: {path}')
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise OSError(f'cannot read image {path} (not an image, or a format OpenCV cannot decode)')
    return img


def _array_results(img: np.ndarray, img_id: str, img_path: Optional[str] = None) -> dict:
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    if img.dtype != np.uint8:
        raise ValueError(f'image arrays must be uint8 BGR (H, W, 3), got {img.dtype} {img.shape}')
    h, w = img.shape[:2]
    return dict(img=img, img_id=img_id, img_path=img_path, ori_shape=(h, w), img_shape=(h, w))


def inference_detector(model: nn.Module, imgs: Union[ImageInput, Sequence[ImageInput]],
                       test_pipeline: Optional[Compose] = None, batch_size: int = 1,
                       img_ids: Optional[Sequence[str]] = None):
    """Run ``model`` on image paths or BGR uint8 arrays ``(H, W, 3)`` through the test pipeline.

    Args:
        model: a detector from :func:`init_detector` (needs ``model.cfg``).
        imgs: one image or a sequence (paths and arrays may be mixed).
        test_pipeline: override of the config's pipeline (must accept what ``imgs`` hold).
        batch_size: images per forward pass.
        img_ids: optional ids written into the samples' ``img_id`` (default: file stem / index).

    Returns:
        ``DetDataSample`` for a single input, else a list in input order; ``pred_instances``
        in original-image pixels.
    """
    single = isinstance(imgs, (str, np.ndarray)) or hasattr(imgs, '__fspath__')
    items = [imgs] if single else list(imgs)
    outputs = []
    for start in range(0, len(items), max(1, int(batch_size))):
        batch = prepare_batch(model, items[start:start + batch_size],
                              img_ids[start:start + batch_size] if img_ids else None,
                              test_pipeline, first_index=start)
        outputs.extend(run_batch(model, batch))
    return outputs[0] if single else outputs


def prepare_batch(model: nn.Module, items: Sequence[ImageInput], img_ids: Optional[Sequence[str]] = None,
                  test_pipeline: Optional[Compose] = None, first_index: int = 0) -> dict:
    """One batch through the test pipeline: ``dict(inputs=[(3, H, W) uint8], data_samples=[...])``.

    The CPU half of :func:`inference_detector` (image reading, resize, packing); it touches no model
    weights, so it can run in a background thread while the previous batch is in the forward pass
    (sliding-window inference does). ``img_ids`` default to the file stem / ``first_index + j``.
    """
    cfg = model.cfg
    # built once per model (sliding-window inference calls this once per batch of tiles)
    pipelines = model.__dict__.setdefault('_rld_test_pipelines', {})

    def pipeline_for(is_array: bool) -> Compose:
        if test_pipeline is not None:
            return test_pipeline
        if is_array not in pipelines:
            pipelines[is_array] = build_test_pipeline(cfg, from_array=is_array)
        return pipelines[is_array]

    has_loader = test_pipeline is not None or any(
        _is_loader(t) for t in (cfg.get('test_pipeline') or (_dataset_cfg(cfg) or {}).get('pipeline') or []))
    batch = dict(inputs=[], data_samples=[])
    for j, item in enumerate(items):
        if isinstance(item, np.ndarray):
            img_id = img_ids[j] if img_ids else str(first_index + j)
            data = pipeline_for(True)(_array_results(item, img_id))
        else:
            path = str(item)
            img_id = img_ids[j] if img_ids else osp.splitext(osp.basename(path))[0]
            if has_loader:
                if not osp.isfile(path):
                    raise FileNotFoundError(f'image not found: {path}')
                data = pipeline_for(False)(dict(img_path=path, img_id=img_id))
            else:
                data = pipeline_for(True)(_array_results(read_image(path), img_id, path))
        if data is None:
            raise ValueError(f'the test pipeline dropped image {img_id!r}')
        batch['inputs'].append(data['inputs'])
        batch['data_samples'].append(data['data_samples'])
    return batch


def run_batch(model: nn.Module, batch: dict) -> list:
    """``model.test_step`` on a batch from :func:`prepare_batch` without autograd: ``DetDataSample`` list."""
    with torch.no_grad():
        return model.test_step(batch)
