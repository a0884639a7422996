"""High-level inference: build a detector, run it on images, and on large scenes by sliding window."""
from .fuse import fuse_conv_bn
from .inference import (
    CheckpointMismatchError,
    build_test_pipeline,
    inference_detector,
    init_detector,
    is_distill_key,
    prepare_batch,
    read_image,
    run_batch,
    student_model_cfg,
)
from .sliding_window import SceneReader, inference_detector_by_patches, scene_windows

__all__ = ['init_detector', 'inference_detector', 'inference_detector_by_patches', 'SceneReader',
           'scene_windows', 'build_test_pipeline', 'CheckpointMismatchError', 'is_distill_key',
           'student_model_cfg', 'read_image', 'fuse_conv_bn', 'prepare_batch', 'run_batch']
