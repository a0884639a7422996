from .point_generator import MlvlPointGenerator  # noqa: F401
