from .checkpoint import StateDictDiff, UnsafeCheckpointError, diff_state_dict, safe_globals, safe_torch_load

__all__ = ['StateDictDiff', 'UnsafeCheckpointError', 'diff_state_dict', 'safe_globals', 'safe_torch_load']
