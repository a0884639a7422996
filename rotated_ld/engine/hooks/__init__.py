from .checkpoint_meta_hook import (
    CheckpointConventionError,
    CheckpointMetaHook,
    check_checkpoint_meta,
    convention_meta,
    model_convention,
)
from .non_finite_check_hook import NonFiniteCheckHook, NonFiniteLossError
from .teacher_eval_hook import TeacherEvalHook, TeacherUntrainedError

__all__ = ['NonFiniteCheckHook', 'NonFiniteLossError', 'CheckpointMetaHook', 'CheckpointConventionError',
           'check_checkpoint_meta', 'convention_meta', 'model_convention', 'TeacherEvalHook',
           'TeacherUntrainedError']
