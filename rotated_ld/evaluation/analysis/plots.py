"""Plots of the analysis (matplotlib with the Agg backend: no display needed).

Every function draws one figure and writes it to ``out`` (a path or a binary file object, PNG).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

__all__ = ['plot_confusion_matrix', 'plot_cdfs', 'plot_class_bars', 'plot_pr_curves', 'plot_error_bars',
           'plot_paired_hist']


def _plt():
    import matplotlib  # local: matplotlib (slow to import) only when a plot is drawn, with the Agg backend set first

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt  # local: as above, after the backend is set

    return plt


def _save(fig, out) -> None:
    fig.tight_layout()
    fig.savefig(out, format='png')
    _plt().close(fig)


def _finish_curves(fig, ax, xlabel: str, ylabel: str, title: str, out, legend_fontsize: int) -> None:
    """Axis labels, grid, a legend when something is labelled, the title; then save (curve plots)."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=legend_fontsize)
    ax.set_title(title, fontsize=10)
    _save(fig, out)


def plot_confusion_matrix(cm: np.ndarray, classes: Sequence[str], out, score_thr: float, iou_thr: float) -> None:
    """``(C + 1, C + 1)`` counts (last row / column background), rows normalised to %."""
    plt = _plt()
    names = list(classes) + ['background']
    pct = cm / np.maximum(cm.sum(1, keepdims=True), 1) * 100
    n = len(names)
    fig, ax = plt.subplots(figsize=(0.55 * n + 3, 0.55 * n + 2.5), dpi=120)
    im = ax.imshow(pct, cmap='Blues', vmin=0, vmax=100)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label='% of the row')
    ax.set_xticks(range(n), names, rotation=60, ha='right', fontsize=8)
    ax.set_yticks(range(n), names, fontsize=8)
    ax.set_xlabel('predicted')
    ax.set_ylabel('ground truth')
    ax.set_title(f'confusion matrix (score ≥ {score_thr}, IoU ≥ {iou_thr})', fontsize=10)
    for i in range(n):
        for j in range(n):
            if cm[i, j]:
                ax.text(j, i, f'{pct[i, j]:.0f}', ha='center', va='center', fontsize=6,
                        color='white' if pct[i, j] > 50 else 'black')
    _save(fig, out)


def plot_cdfs(values: Mapping[str, np.ndarray], xlabel: str, out, title: str = '') -> None:
    """Empirical CDF per model of ``values[name]`` ``(M,)`` (NaN dropped)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.8), dpi=110)
    for name, v in values.items():
        v = np.sort(np.asarray(v, np.float64)[np.isfinite(v)])
        if len(v):
            ax.step(v, np.arange(1, len(v) + 1) / len(v), where='post', label=f'{name} (n={len(v)})')
    ax.set_ylim(0, 1.01)
    _finish_curves(fig, ax, xlabel, 'fraction of matched objects ≤ x', title, out, legend_fontsize=8)


def plot_class_bars(per_model: Mapping[str, Mapping[str, float]], ylabel: str, out, title: str = '',
                    order: Sequence[str] | None = None) -> None:
    """Grouped bars: ``per_model[model][class] = value`` (groups sorted by name unless ``order``)."""
    plt = _plt()
    classes = list(order) if order is not None else sorted({c for v in per_model.values() for c in v})
    n_m = max(len(per_model), 1)
    fig, ax = plt.subplots(figsize=(max(5.0, 0.5 * len(classes) * n_m + 2), 3.8), dpi=110)
    width = 0.8 / n_m
    x = np.arange(len(classes))
    for k, (name, vals) in enumerate(per_model.items()):
        ax.bar(x + k * width - 0.4 + width / 2, [vals.get(c, np.nan) for c in classes], width, label=name)
    ax.set_xticks(x, classes, rotation=45, ha='right', fontsize=8)
    ax.set_ylabel(ylabel)
    ax.grid(axis='y', alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    _save(fig, out)


def plot_pr_curves(curves: Mapping[str, tuple], out, title: str = 'PR curves (IoU 0.5)') -> None:
    """``curves[label] = (recall, precision)`` arrays; None entries skipped."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 4.2), dpi=110)
    for label, c in curves.items():
        if c is not None and len(c[0]):
            ax.plot(np.concatenate([[0], c[0]]), np.concatenate([[c[1][0]], c[1]]), label=label, lw=1.2)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    _finish_curves(fig, ax, 'recall', 'precision', title, out, legend_fontsize=7)


def plot_error_bars(dap: Mapping[str, Mapping[str, float]], out, title: str = 'AP50 lost to each error type') -> None:
    """``dap[model][error type]`` in AP points (0–100)."""
    types = list(next(iter(dap.values())).keys()) if dap else []
    plot_class_bars({m: {t: v[t] for t in types} for m, v in dap.items()}, 'ΔAP50 (points)', out, title, types)


def plot_paired_hist(values: np.ndarray, xlabel: str, out, title: str = '') -> None:
    """Histogram of per-object differences ``B − A`` with the zero line and the mean."""
    plt = _plt()
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    fig, ax = plt.subplots(figsize=(5.5, 3.6), dpi=110)
    if len(v):
        ax.hist(v, bins=min(60, max(10, len(v) // 5)), color='tab:blue', alpha=0.8)
        ax.axvline(v.mean(), color='tab:red', label=f'mean {v.mean():+.4g}')
    ax.axvline(0, color='k', lw=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel('objects')
    if len(v):
        ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    _save(fig, out)
