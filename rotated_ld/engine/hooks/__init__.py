from .non_finite_check_hook import NonFiniteCheckHook, NonFiniteLossError

__all__ = ['NonFiniteCheckHook', 'NonFiniteLossError']
