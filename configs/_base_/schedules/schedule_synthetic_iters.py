# Iteration-based schedule of the CPU demo and the distillation benchmark (tools/demo.py,
# benchmarks/bench_distill_gain.py): AdamW 1e-3 trains from scratch fastest on CPU
# (docs/cpu_training.md); linear warm-up, then cosine to 5 %.
# tools/demo.py sets max_iters and the warm-up length per stage with --cfg-options.
# No validation while training: the demo scores merged full scenes once, at the end (test_dataloader).
# (children that skip validation also write val_dataloader = None and val_evaluator = None)
train_cfg = dict(type='IterBasedTrainLoop', max_iters=200)
val_cfg = None
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=50, eta_min_ratio=0.05),
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
    clip_grad=dict(max_norm=10, norm_type=2))
auto_scale_lr = dict(enable=False, base_batch_size=4)
randomness = dict(seed=0)
