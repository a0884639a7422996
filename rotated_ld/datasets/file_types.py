"""File types the data tools accept, in one place (import-free, so any module can use it).

``IMG_EXTS``: the image extensions OpenCV decodes that DOTA-style folders hold (compared in lower
case). The split tool, the converters, ``check_dataset.py``, ``infer.py`` and the patch-name parser
all use this list, so an image one of them accepts is accepted by the others.
"""
IMG_EXTS = ('.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp', '.webp')

__all__ = ['IMG_EXTS']
