"""Report figures (matplotlib, Agg): heatmap, severity curves, ability curves, flip rates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from robostress.metrics.stats import wilson  # noqa: E402

DIM_COLORS = {"material": "#8c564b", "lighting": "#ff7f0e", "viewpoint": "#1f77b4", "geometry": "#2ca02c"}


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return path


def heatmap(summary: dict[str, Any], path: Path) -> Path:
    """Sub-type x severity accuracy (clean twin accuracy in column 0)."""
    curves = summary["curves_by_subtype"]
    names = list(curves)
    grid = np.full((len(names), 6), np.nan)
    for i, n in enumerate(names):
        grid[i, 0] = curves[n]["clean"]
        for s, a in zip(curves[n]["severities"], curves[n]["accuracy"], strict=True):
            grid[i, int(s)] = a
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * len(names) + 1.4))
    im = ax.imshow(grid, vmin=0, vmax=1, cmap="RdYlGn", aspect="auto")
    ax.set_xticks(range(6), ["clean"] + [f"s{s}" for s in range(1, 6)])
    ax.set_yticks(range(len(names)), [n.replace("/", " / ") for n in names], fontsize=8)
    for i in range(len(names)):
        for j in range(6):
            if not np.isnan(grid[i, j]):
                ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=7)
    fig.colorbar(im, ax=ax, label="accuracy (paired items)")
    ax.set_title(f"{summary.get('model')}: accuracy by stress sub-type and severity")
    return _save(fig, path)


def severity_curves(summary: dict[str, Any], path: Path) -> Path:
    """Accuracy vs severity per dimension with Wilson bands and the chance line."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    cells = summary["by_dimension_severity"]
    chance = []
    for dim, c in summary["curves_by_dimension"].items():
        xs = [0] + list(c["severities"])
        ys = [c["clean"]] + list(c["accuracy"])
        ns = [summary["paired_by_dimension"][dim]["n_pairs"]] + [cells[f"{dim}/{s}"]["n"] for s in c["severities"]]
        lo, hi = zip(*(wilson(y * n, n) for y, n in zip(ys, ns, strict=True)), strict=True)
        col = DIM_COLORS.get(dim)
        ax.plot(xs, ys, "-o", color=col, label=dim)
        ax.fill_between(xs, lo, hi, color=col, alpha=0.15)
        chance.append(c["chance"])
    if chance:
        ax.axhline(float(np.mean(chance)), ls="--", color="gray", label="chance")
    ax.set_xlabel("severity (0 = clean twin)")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"{summary.get('model')}: severity curves per dimension (95% Wilson bands)")
    ax.legend(fontsize=8)
    return _save(fig, path)


def ability_curves(summary: dict[str, Any], path: Path) -> Path:
    """One small panel per dimension: accuracy vs severity for each ability."""
    curves = summary["curves_by_dimension_ability"]
    dims = sorted({k.split("/")[0] for k in curves})
    fig, axes = plt.subplots(1, max(1, len(dims)), figsize=(3.2 * max(1, len(dims)), 3.2), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, dim in zip(axes, dims, strict=False):
        for k, c in curves.items():
            if k.split("/")[0] == dim:
                ax.plot([0] + list(c["severities"]), [c["clean"]] + list(c["accuracy"]), "-o", ms=3,
                        label=k.split("/", 1)[1])
        ax.set_title(dim)
        ax.set_xlabel("severity")
        ax.set_ylim(0, 1.02)
    axes[0].set_ylabel("accuracy")
    axes[-1].legend(fontsize=7, loc="lower left")
    fig.suptitle(f"{summary.get('model')}: which abilities break under which stress")
    return _save(fig, path)


def flip_bars(summary: dict[str, Any], path: Path) -> Path:
    """Paired flip rates per dimension (clean-correct -> stressed-wrong and back)."""
    p = summary["paired_by_dimension"]
    dims = list(p)
    cw = [p[d].get("flip_correct_to_wrong", 0) for d in dims]
    wc = [p[d].get("flip_wrong_to_correct", 0) for d in dims]
    x = np.arange(len(dims))
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.bar(x - 0.2, cw, 0.4, label="correct -> wrong", color="#d62728")
    ax.bar(x + 0.2, wc, 0.4, label="wrong -> correct", color="#2ca02c")
    ax.set_xticks(x, dims)
    ax.set_ylabel("share of paired items")
    ax.set_title(f"{summary.get('model')}: answer flips vs the clean twin")
    ax.legend(fontsize=8)
    return _save(fig, path)


def all_figures(summary: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """Write every figure (skipping those without data)."""
    if not summary.get("curves_by_subtype"):
        return {}
    return {"heatmap": heatmap(summary, out_dir / "heatmap.png"),
            "severity_curves": severity_curves(summary, out_dir / "severity_curves.png"),
            "ability_curves": ability_curves(summary, out_dir / "ability_curves.png"),
            "flips": flip_bars(summary, out_dir / "flips.png")}
