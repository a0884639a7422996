"""Pretrained weights named the mmdet way, read from torch's hub cache — never downloaded.

``torchvision://resnet50`` (also ``modelzoo://``), ``open-mmlab://NAME`` / ``openmmlab://NAME``
and ``http(s)://.../file.pth`` resolve to the file torch / MMEngine would have downloaded:
``torch.hub.get_dir()/checkpoints/<file name of the URL>`` (``$TORCH_HOME/hub/checkpoints``,
default ``~/.cache/torch/hub/checkpoints``). The name → URL tables are MMEngine's own
(``mmengine/hub/torchvision_0.12.json`` + the torchvision weight enums, ``openmmlab.json``), so a
file MMEngine or torchvision fetched earlier is found. When it is absent, a ``FileNotFoundError``
says in one line where to put it and the one command that fetches it on a machine with internet.
Files are read with :func:`rotated_ld.utils.checkpoint.safe_torch_load` (``weights_only=True``).
Local paths are used as they are.
"""
from __future__ import annotations

import difflib
import json
import os.path as osp
from urllib.parse import urlparse

import mmengine

__all__ = ['HUB_PREFIXES', 'is_hub_name', 'model_url', 'hub_cache_path', 'resolve_pretrained']

TORCHVISION_PREFIXES = ('torchvision://', 'modelzoo://')
OPENMMLAB_PREFIXES = ('open-mmlab://', 'openmmlab://')
URL_PREFIXES = ('http://', 'https://')
HUB_PREFIXES = TORCHVISION_PREFIXES + OPENMMLAB_PREFIXES + URL_PREFIXES


def is_hub_name(name: str) -> bool:
    """``name`` uses one of :data:`HUB_PREFIXES` (not a local path)."""
    return str(name).startswith(HUB_PREFIXES)


def _mmengine_json(fname: str) -> dict:
    with open(osp.join(mmengine.__path__[0], 'hub', fname)) as f:
        return json.load(f)


def model_url(name: str) -> str:
    """The download URL behind a ``torchvision://`` / ``open-mmlab://`` name (a URL is returned as is).

    Raises:
        KeyError: an unknown model name (the message lists close names).
    """
    if name.startswith(URL_PREFIXES):
        return name
    prefix = next(p for p in TORCHVISION_PREFIXES + OPENMMLAB_PREFIXES if name.startswith(p))
    key = name[len(prefix):]
    if prefix in TORCHVISION_PREFIXES:
        # local: mmengine.runner imports torch; utils stays torch-free
        from mmengine.runner.checkpoint import get_torchvision_models

        table = get_torchvision_models()  # 0.12 names ('resnet50') + weight enums ('resnet50.imagenet1k_v2')
    else:
        table = _mmengine_json('openmmlab.json')
        key = _mmengine_json('deprecated.json').get(key, key)
    if key not in table:
        close = difflib.get_close_matches(key, list(table), n=3)
        raise KeyError(f'{name}: unknown model name' + (f'; did you mean {", ".join(prefix + c for c in close)}?'
                                                         if close else ''))
    return table[key]


def hub_cache_path(url: str) -> str:
    """``torch.hub.get_dir()/checkpoints/<file name of url>`` (where ``torch.hub`` caches downloads)."""
    import torch.hub  # local: utils stays torch-free

    return osp.join(torch.hub.get_dir(), 'checkpoints', osp.basename(urlparse(url).path))


def resolve_pretrained(name: str) -> str:
    """Local file of a checkpoint name: a local path (``~`` expanded) or a hub name (module docstring).

    Raises:
        FileNotFoundError: one line: the expected location and the command that fetches the file.
    """
    if not is_hub_name(name):
        path = osp.expanduser(str(name))
        if not osp.isfile(path):
            raise FileNotFoundError(f'checkpoint not found: {path}')
        return path
    url = model_url(name)
    path = hub_cache_path(url)
    if not osp.isfile(path):
        fname = osp.basename(path)
        raise FileNotFoundError(
            f'{name}: {fname} is not in the torch hub cache and nothing is downloaded here; put it at {path} '
            f'(on a machine with internet: curl -L -o {fname} {url})')
    return path


def _register() -> None:
    """Route MMEngine's hub schemes through :func:`resolve_pretrained` + the safe loader."""
    # local: mmengine.runner and .checkpoint import torch; utils stays torch-free
    from mmengine.runner.checkpoint import CheckpointLoader

    from .checkpoint import safe_torch_load

    def load_from_hub_cache(filename: str, map_location=None):
        return safe_torch_load(resolve_pretrained(filename), map_location)

    CheckpointLoader.register_scheme(prefixes=list(HUB_PREFIXES), loader=load_from_hub_cache, force=True)


_register()
