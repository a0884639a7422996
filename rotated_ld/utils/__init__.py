"""Checkpoint safety (:mod:`.checkpoint`, needs torch), pretrained-name resolution (:mod:`.pretrained`),
tool helpers (:mod:`.setup_env`) and weight import.

Names load lazily so that ``rotated_ld.utils.setup_env`` is usable without importing torch. The
MMEngine hooks of :mod:`.checkpoint` (safe loader) and :mod:`.pretrained` (``torchvision://`` /
``open-mmlab://`` / URLs from the hub cache, never downloaded) are installed by
:mod:`rotated_ld.registry`, which MMEngine imports for every config of the ``rotated_ld`` scope.
"""
from .._lazy import lazy_exports

__all__ = ['CorruptCheckpointError', 'StateDictDiff', 'UnsafeCheckpointError', 'diff_state_dict', 'safe_globals',
           'safe_torch_load', 'unwrap_state_dict']
__getattr__, __dir__ = lazy_exports(__name__, {name: '.checkpoint' for name in __all__})
