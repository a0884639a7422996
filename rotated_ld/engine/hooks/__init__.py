from rotated_ld.utils.checkpoint_meta import (  # re-exported: the check predates its move to utils
    CheckpointConventionError,
    check_checkpoint_meta,
    convention_meta,
    model_convention,
)

from .checkpoint_meta_hook import CheckpointMetaHook
from .non_finite_check_hook import NonFiniteCheckHook, NonFiniteLossError
from .teacher_eval_hook import TeacherEvalHook, TeacherUntrainedError

__all__ = ['NonFiniteCheckHook', 'NonFiniteLossError', 'CheckpointMetaHook', 'CheckpointConventionError',
           'check_checkpoint_meta', 'convention_meta', 'model_convention', 'TeacherEvalHook',
           'TeacherUntrainedError']
