"""Assigners, box coders, prior generators (registered in TASK_UTILS)."""
from .assigners import *  # noqa: F401,F403
from .coders import *  # noqa: F401,F403
from .prior_generators import *  # noqa: F401,F403
