"""Large-scene image split (mmrotate 1.x compatible); CLI in ``tools/data/dota/split/img_split.py``."""
from .img_split import (
    SplitConfig,
    SplitStats,
    finished_images,
    get_sliding_windows,
    image_file_problem,
    png_params,
    polys_window_iof,
    split_dataset,
    split_image,
)

__all__ = ['SplitConfig', 'SplitStats', 'finished_images', 'get_sliding_windows', 'image_file_problem',
           'png_params', 'polys_window_iof', 'split_dataset', 'split_image']
