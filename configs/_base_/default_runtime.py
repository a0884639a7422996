# Runtime shared by every config (mmdet 3.x layout).
default_scope = 'rotated_ld'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # draws predictions only when asked (tools/test.py --show / --show-dir)
    visualization=dict(type='DetVisualizationHook'),
)

# Stops on a NaN/inf loss term or gradient before the update, naming it (action='skip' to skip).
custom_hooks = [dict(type='NonFiniteCheckHook', action='stop'), dict(type='CheckpointMetaHook'), dict(type='TeacherEvalHook')]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py switches to gloo when CUDA is unavailable (CPU DDP)
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='DetLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)

log_level = 'INFO'
load_from = None
resume = False
