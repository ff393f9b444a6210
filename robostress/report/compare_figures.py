"""Figures of a comparison of runs: overlaid severity curves (one panel per dimension, one line per
model with its 95% scene-bootstrap band) and one dimension x ability heatmap per model."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from robostress.metrics.records import Summary
from robostress.report.figures import _annotate, _band_curve, _save, label_severity_grid, plt


def overlaid_curves(summaries: Mapping[str, Summary], path: Path) -> Path:
    """Accuracy vs severity per dimension, every model on the same axes (clean twin at 0)."""
    dims = sorted({d for s in summaries.values() for d in s.curves_by_dimension})
    ncol = min(2, max(1, len(dims)))
    nrow = max(1, -(-len(dims) // ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(5.4 * ncol, 3.5 * nrow), sharex=True, sharey=True,
                             squeeze=False, layout="constrained")
    colors = {m: plt.get_cmap("tab10")(i % 10) for i, m in enumerate(summaries)}
    top = 1
    for ax, dim in zip(axes.flat, dims, strict=False):
        for model, s in summaries.items():
            c = s.curves_by_dimension.get(dim)
            if c:
                _band_curve(ax, c, colors[model], model, ms=4)
                top = max(top, max(c.severities))
        ax.set_title(dim, fontsize=10)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    for ax in axes.flat:
        ax.set_xticks(range(top + 1))
    label_severity_grid(axes, len(dims))
    handles = [plt.Line2D([], [], color=colors[m], marker="o", ms=4, label=m) for m in summaries]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(5, len(handles)), fontsize=8)
    fig.suptitle("severity curves per dimension, all models (bands: 95% scene-bootstrap)")
    return _save(fig, path)


def dimension_ability_heatmap(summary: Summary, path: Path) -> Path:
    """Stressed accuracy per dimension (rows) and ability (columns) of one model, with clean
    accuracy per ability as the first row."""
    cells = summary.by_dimension_ability
    dims = sorted({k.split("/")[0] for k in cells})
    abilities = sorted({k.split("/", 1)[1] for k in cells} | set(summary.by_ability_clean))
    grid = np.full((len(dims) + 1, len(abilities)), np.nan)
    for j, ab in enumerate(abilities):
        c = summary.by_ability_clean.get(ab)
        if c and c.accuracy is not None:
            grid[0, j] = c.accuracy
        for i, d in enumerate(dims):
            c = cells.get(f"{d}/{ab}")
            if c and c.accuracy is not None:
                grid[i + 1, j] = c.accuracy
    fig, ax = plt.subplots(figsize=(1.25 * len(abilities) + 2.6, 0.5 * len(dims) + 2.2), layout="constrained")
    cmap, norm = plt.get_cmap("viridis"), plt.Normalize(0, 1)
    im = ax.imshow(grid, cmap=cmap, norm=norm, aspect="auto")
    _annotate(ax, grid, cmap, norm, "{:.2f}")
    ax.set_xticks(range(len(abilities)), [a.replace("_", " ") for a in abilities], rotation=20, fontsize=8)
    ax.set_yticks(range(len(dims) + 1), ["clean"] + dims, fontsize=9)
    ax.axhline(0.5, color="white", lw=2.5)
    fig.colorbar(im, ax=ax, label="accuracy", shrink=0.8)
    ax.set_title(f"{summary.model}: accuracy per dimension x ability", fontsize=10)
    return _save(fig, path)
