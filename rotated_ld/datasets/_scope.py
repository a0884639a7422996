"""Build dataset pipelines in the ``rotated_ld`` scope even without a Runner / DefaultScope."""
import contextlib

from mmengine.registry import DefaultScope


def rotated_ld_scope():
    """Context: ``rotated_ld`` default scope when none is set (scripts, notebooks); else no-op."""
    if DefaultScope.get_current_instance() is None:
        return DefaultScope.overwrite_default_scope('rotated_ld')
    return contextlib.nullcontext()
