from .kd_single_stage import KDSingleStageDetector, check_teacher_compat
from .single_stage import SingleStageDetector
from .teacher_checks import TeacherCheckpointError, TeacherCompatError

__all__ = ['SingleStageDetector', 'KDSingleStageDetector', 'check_teacher_compat', 'TeacherCheckpointError',
           'TeacherCompatError']
