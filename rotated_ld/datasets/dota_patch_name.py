"""Names of DOTA split patches: ``{image}__{size-or-rate}__{x}___{y}``.

Shared by the split tool (``tools/data/dota/split/img_split.py``), the patch merge of the
DOTA evaluation and sliding-window inference. Two flavours exist and both parse:

* mmrotate 1.x (default of our split tool): the middle token is the window size in pixels of
  the ORIGINAL image (``P0000__1024__0___824``; multi-scale windows are ``int(size / rate)`` wide
  and saved unscaled, e.g. ``P0000__2048__0___0`` for rate 0.5). Rate is 1.0 for these names.
* DOTA_devkit (``--rescale`` in our split tool): the image is resized by ``rate`` first and the
  middle token is the rate written with a dot (``P0000__0.5__0___824``); ``x, y`` are offsets in
  the RESCALED image.

Parse rule: middle token contains ``'.'`` -> ``rate = float(token)``, else ``rate = 1.0``.
Full-image coordinates = ``(patch coordinates + (x, y)) / rate``.

>>> format_patch_name('P0000', 0, 824, size=1024)
'P0000__1024__0___824'
>>> parse_patch_name('P0000__0.5__0___824')
('P0000', 0, 824, 0.5)
"""
from __future__ import annotations

import os.path as osp
import re

from .file_types import IMG_EXTS

__all__ = ['format_patch_name', 'parse_patch_name', 'is_patch_name', 'patch_to_image_coords', 'image_id']

_WHITESPACE = re.compile(r'\s+')


def image_id(path_or_stem: str) -> str:
    """The image id of an image or label file: the file stem with each run of whitespace replaced by
    ``_`` (``'scenes/my scene.png'`` -> ``'my_scene'``).

    Task1 rows and ``infer.py`` result rows are whitespace-separated (``id score x1 ... y4``), as the
    DOTA devkit and server read them, so an id cannot hold a space. Every writer of ids (``infer.py``,
    ``DOTAMetric``'s Task1 files) and every reader that maps files to ids (``load_labeltxt_dir``,
    the submission checker's image list) uses this one rule.

    >>> image_id('data/val/images/my scene 2.png')
    'my_scene_2'
    """
    base = osp.basename(str(path_or_stem))
    stem, ext = osp.splitext(base)
    stem = stem if ext.lower() in IMG_EXTS + ('.txt', '.json', '.xml', '.npy') else base
    return _WHITESPACE.sub('_', stem.strip())

# image id may itself contain '__' (rare), so anchor the three numeric tokens at the end
_PATCH_RE = re.compile(r'^(?P<image>.+)__(?P<mid>\d+(?:\.\d*)?)__(?P<x>-?\d+)___(?P<y>-?\d+)$')


def _rate_token(rate: float) -> str:
    token = repr(float(rate))  # always contains '.', e.g. '0.5', '1.5', '2.0'
    if 'e' in token or 'E' in token:
        raise ValueError(f'rate={rate!r} cannot be written as a plain decimal patch-name token')
    return token


def format_patch_name(image: str, x: int, y: int, size: int | None = None,
                      rate: float = 1.0) -> str:
    """Return the patch name of the window starting at ``(x, y)``.

    Args:
        image (str): image id (file stem) of the full scene, e.g. ``'P0000'``.
        x, y (int): window offset in pixels (of the rescaled image when ``rate != 1``).
        size (int | None): window width in pixels; used as the middle token when ``rate == 1``.
        rate (float): image rescale factor. ``rate != 1`` writes the rate token (DOTA_devkit).

    Returns:
        str: ``'{image}__{size}__{x}___{y}'`` or ``'{image}__{rate}__{x}___{y}'``.
    """
    if float(rate) != 1.0:
        mid = _rate_token(rate)
    else:
        if size is None:
            raise ValueError('size is required for rate 1.0 patch names (mmrotate style)')
        mid = str(int(size))
    return f'{image}__{mid}__{int(x)}___{int(y)}'


def parse_patch_name(name: str) -> tuple[str, int, int, float]:
    """Split a patch name (file stem, an extension is stripped) into ``(image, x, y, rate)``.

    Raises:
        ValueError: the name does not follow ``{image}__{size-or-rate}__{x}___{y}``.
    """
    stem = name.rsplit('/', 1)[-1]
    for ext in IMG_EXTS + ('.txt',):
        if stem.lower().endswith(ext):
            stem = stem[:-len(ext)]
            break
    m = _PATCH_RE.match(stem)
    if m is None:
        raise ValueError(f'{name!r} is not a DOTA patch name; expected '
                         "'{image}__{size-or-rate}__{x}___{y}', e.g. 'P0000__1024__0___824'")
    mid = m.group('mid')
    rate = float(mid) if '.' in mid else 1.0
    if rate <= 0:
        raise ValueError(f'{name!r}: rate token {mid!r} must be > 0')
    return m.group('image'), int(m.group('x')), int(m.group('y')), rate


def is_patch_name(name: str) -> bool:
    """True when ``name`` parses as a patch name."""
    try:
        parse_patch_name(name)
    except ValueError:
        return False
    return True


def patch_to_image_coords(xs, ys, name: str):
    """Map patch coordinates to full-image coordinates: ``((x + x0) / rate, (y + y0) / rate)``."""
    _, x0, y0, rate = parse_patch_name(name)
    return (xs + x0) / rate, (ys + y0) / rate
