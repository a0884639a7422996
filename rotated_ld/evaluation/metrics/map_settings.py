"""What the two mAP metrics (:class:`~.DOTAMetric`, :class:`~.VOCMetric`) check alike, and the
tensor-to-numpy step every metric's ``process`` uses."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def to_numpy(x) -> np.ndarray:
    """A tensor (any device) or array-like as a numpy array."""
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def map_thresholds(owner: str, metric: str, eval_mode: str | None, eval_modes: tuple,
                   iou_thrs: float | Sequence[float]) -> list[float]:
    """``iou_thrs`` as a list of floats, after checking ``metric == 'mAP'`` and ``eval_mode in eval_modes``.

    Raises:
        KeyError: another ``metric`` (the message names ``owner``).
        ValueError: an ``eval_mode`` outside ``eval_modes``.
    """
    if metric != 'mAP':
        raise KeyError(f"metric={metric!r}; {owner} supports 'mAP'")
    if eval_mode not in eval_modes:
        names = [repr(m) for m in eval_modes]
        raise ValueError(f'eval_mode={eval_mode!r}; expected {", ".join(names[:-1])} or {names[-1]}')
    return [float(t) for t in np.atleast_1d(iou_thrs)]
