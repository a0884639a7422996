from .checkpoint import UnsafeCheckpointError, safe_globals, safe_torch_load

__all__ = ['UnsafeCheckpointError', 'safe_globals', 'safe_torch_load']
