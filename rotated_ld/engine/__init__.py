"""Training-engine extensions registered in the rotated_ld scope (hooks, optim wrappers),
plus the atomic checkpoint backend (installed on import)."""
from . import atomic_save  # noqa: F401  (atomic local file backend)
from .atomic_save import remove_stale_temp_files
from .hooks import NonFiniteCheckHook, NonFiniteLossError
from .optim_wrappers import CPUAutocastOptimWrapper
from .resume import checkpoint_is_valid, find_latest_valid_checkpoint

__all__ = ['CPUAutocastOptimWrapper', 'NonFiniteCheckHook', 'NonFiniteLossError', 'checkpoint_is_valid',
           'find_latest_valid_checkpoint', 'remove_stale_temp_files']
