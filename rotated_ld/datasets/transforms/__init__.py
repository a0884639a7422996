"""Data transforms (dict -> dict callables registered in ``TRANSFORMS``); see ``docs/data.md``."""
from .formatting import PackDetInputs
from .geometric import Pad, RandomCrop, RandomFlip, RandomResize, RandomRotate, Resize, flip, rotate
from .loading import ConvertBoxType, LoadAnnotations, LoadImageFromFile

__all__ = ['LoadImageFromFile', 'LoadAnnotations', 'ConvertBoxType', 'Resize', 'RandomResize', 'RandomFlip',
           'RandomRotate', 'RandomCrop', 'Pad', 'PackDetInputs', 'flip', 'rotate']
