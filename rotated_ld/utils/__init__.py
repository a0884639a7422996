from . import pretrained  # noqa: F401,I001  (torchvision:// / open-mmlab:// / URLs from the hub cache, never downloaded)
from .checkpoint import StateDictDiff, UnsafeCheckpointError, diff_state_dict, safe_globals, safe_torch_load

__all__ = ['StateDictDiff', 'UnsafeCheckpointError', 'diff_state_dict', 'safe_globals', 'safe_torch_load']
