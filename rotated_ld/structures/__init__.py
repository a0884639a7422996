"""Data structures: :class:`DetDataSample` and box helpers (``bbox/``)."""
from .det_data_sample import DetDataSample, SampleList

__all__ = ['DetDataSample', 'SampleList']
