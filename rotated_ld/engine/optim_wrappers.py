"""Optimizer wrappers: bf16 autocast on CPU (MMEngine's AmpOptimWrapper refuses CPU)."""
from contextlib import ExitStack, contextmanager

import torch
from mmengine.optim import OptimWrapper

from ..registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class CPUAutocastOptimWrapper(OptimWrapper):
    """Runs the forward under ``torch.autocast('cpu', dtype)``; bf16 needs no loss scaling.

    Used by ``tools/train.py --amp`` when CUDA is unavailable. Note: on many CPUs bf16 is slower
    than fp32 (measured ~7x slower on this project's 2-core machine); it exists for parity.
    """

    def __init__(self, dtype: str = 'bfloat16', **kwargs) -> None:
        super().__init__(**kwargs)
        self.cast_dtype = getattr(torch, dtype)

    @contextmanager
    def optim_context(self, model):
        with ExitStack() as stack:
            stack.enter_context(super().optim_context(model))
            stack.enter_context(torch.autocast('cpu', dtype=self.cast_dtype))
            yield
