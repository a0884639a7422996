"""Training-engine extensions registered in the rotated_ld scope (hooks, optim wrappers)."""
from .optim_wrappers import CPUAutocastOptimWrapper

__all__ = ['CPUAutocastOptimWrapper']
