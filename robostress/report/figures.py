"""Report figures (matplotlib Agg): sub-type x severity heatmaps, severity curves per dimension,
ability curves per dimension, and flip rates. Each takes a summary and writes one PNG."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from robostress.metrics.records import Curve, Summary  # noqa: E402
from robostress.stress.base import DIMENSIONS  # noqa: E402

DPI = 110


def label_severity_grid(axes: Any, used: int) -> None:
    """Hide the grid's unused axes; label severity below and accuracy on the left."""
    for ax in axes.flat[used:]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("severity (0 = clean twin)")
    for ax in axes[:, 0]:
        ax.set_ylabel("accuracy (paired items)")


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, metadata={"Software": None})  # no version stamp: stable bytes
    plt.close(fig)
    return path


def _annotate(ax: Any, grid: np.ndarray, cmap: Any, norm: Any, fmt: str) -> None:
    """Write each value in its cell, black or white by the cell's luminance."""
    for (i, j), v in np.ndenumerate(grid):
        if np.isnan(v):
            ax.text(j, i, "–", ha="center", va="center", fontsize=8, color="#888")
            continue
        r, g, b, _ = cmap(norm(v))
        ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=8,
                color="black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white")


def heatmap(summary: Summary, path: Path) -> Path:
    """Left: accuracy per sub-type (rows) and severity (columns, clean twins first).
    Right: the paired drop vs the clean twins in percentage points (red = worse)."""
    curves, paired = summary.curves_by_subtype, summary.paired_by_subtype_severity
    names = list(curves)
    sevs = sorted({s for c in curves.values() for s in c.severities})
    acc = np.full((len(names), len(sevs) + 1), np.nan)
    drop = np.full((len(names), len(sevs)), np.nan)
    for i, n in enumerate(names):
        acc[i, 0] = curves[n].clean
        for j, s in enumerate(sevs):
            if s in curves[n].severities:
                acc[i, j + 1] = curves[n].accuracy[curves[n].severities.index(s)]
            if f"{n}/{s}" in paired:
                drop[i, j] = 100 * paired[f"{n}/{s}"].drop
    lim = max(10.0, float(np.ceil(np.nanmax(np.abs(drop), initial=0) / 10) * 10))
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, max(3.6, 0.36 * len(names) + 1.9)), sharey=True,
                                 gridspec_kw={"width_ratios": [len(sevs) + 1, len(sevs)]},
                                 layout="constrained")
    panels: list[tuple[Any, ...]] = [
        (a1, acc, plt.get_cmap("viridis"), plt.Normalize(0, 1), "{:.2f}", ["clean"], "accuracy"),
        (a2, drop, plt.get_cmap("RdBu_r"), plt.Normalize(-lim, lim), "{:+.0f}", [], "drop (pp)")]
    for ax, grid, cmap, norm, fmt, first, label in panels:
        im = ax.imshow(grid, cmap=cmap, norm=norm, aspect="auto")
        _annotate(ax, grid, cmap, norm, fmt)
        ax.set_xticks(range(grid.shape[1]), first + [f"s{s}" for s in sevs])
        ax.xaxis.tick_top()
        fig.colorbar(im, ax=ax, label=label, shrink=0.8, pad=0.01)
        dims = [n.split("/")[0] for n in names]
        for i in range(1, len(dims)):  # separate dimensions
            if dims[i] != dims[i - 1]:
                ax.axhline(i - 0.5, color="white", lw=2.5)
    a1.set_yticks(range(len(names)), [n.replace("/", ": ") for n in names], fontsize=9)
    fig.suptitle(f"{summary.model}: accuracy (left) and paired drop vs the clean twins in "
                 "percentage points (right, red = worse) per sub-type and severity")
    return _save(fig, path)


def _band_curve(ax: Any, c: Curve, color: Any, label: str, ms: float = 5) -> None:
    """Plot the clean point and severities with their 95% scene-bootstrap band."""
    xs = [0] + list(c.severities)
    ys = [c.clean] + list(c.accuracy)
    lo, hi = zip(*([c.clean_ci95] + list(c.ci95)), strict=True)
    ax.fill_between(xs, lo, hi, color=color, alpha=0.13, lw=0)
    ax.plot(xs, ys, "-o", color=color, label=label, ms=ms)


def severity_curves(summary: Summary, path: Path) -> Path:
    """One panel per dimension: its accuracy vs severity with a 95% scene-bootstrap band, its sub-types as
    thin lines, the chance line and the breaking point."""
    dims, subs = summary.curves_by_dimension, summary.curves_by_subtype
    ncol = min(2, len(dims))
    nrow = -(-len(dims) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(5.2 * ncol, 3.4 * nrow), sharex=True, sharey=True,
                             squeeze=False, layout="constrained")
    top = max(max(c.severities) for c in dims.values())
    for ax, (dim, c) in zip(axes.flat, dims.items(), strict=False):
        mine = [(k.split("/", 1)[1], v) for k, v in subs.items() if k.split("/")[0] == dim]
        for j, (name, sc) in enumerate(mine):
            ax.plot([0, *sc.severities], [sc.clean, *sc.accuracy], "-", lw=1.1, alpha=0.85,
                    color=plt.get_cmap("tab10")(j % 10), label=name)
        _band_curve(ax, c, "black", f"{dim} (all)", ms=5)
        ax.axhline(c.chance, color="gray", ls="--", lw=1.2, label=f"chance ({c.chance:.2f})")
        bp = c.breaking_point
        if bp is not None:
            ax.axvline(bp, color="black", ls=":", lw=1.5)
            ax.plot([bp], [0.5 * (c.clean + c.chance)], "v", color="crimson", ms=9,
                    label=f"breaking point {bp:.1f} (halfway to chance)")
        ax.set_title(f"{dim}: breaking point {'>' + str(top) if bp is None else f'{bp:.1f}'}", fontsize=10)
        ax.set_ylim(0, 1.02)
        ax.set_xticks(range(top + 1))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best", ncols=2)
    label_severity_grid(axes, len(dims))
    fig.suptitle(f"{summary.model}: severity curves per dimension "
                 "(thick: dimension with 95% scene-bootstrap band; thin: its sub-types)")
    return _save(fig, path)


def ability_curves(summary: Summary, path: Path) -> Path:
    """One panel per dimension: accuracy vs severity for each ability (same colour everywhere)."""
    curves = summary.curves_by_dimension_ability
    dims = list(dict.fromkeys(k.split("/")[0] for k in curves))
    abilities = sorted({k.split("/", 1)[1] for k in curves})
    colors = {ab: plt.get_cmap("tab10")(i % 10) for i, ab in enumerate(abilities)}
    fig, axes = plt.subplots(1, len(dims), figsize=(3.3 * len(dims) + 0.6, 3.9), sharey=True,
                             squeeze=False, layout="constrained")
    for ax, dim in zip(axes[0], dims, strict=True):
        for ab in abilities:
            c = curves.get(f"{dim}/{ab}")
            if c:
                ax.plot([0, *c.severities], [c.clean, *c.accuracy], "-o", ms=3, color=colors[ab])
        ax.set_title(dim)
        ax.set_xlabel("severity")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("accuracy on paired items")
    handles = [plt.Line2D([], [], color=colors[ab], marker="o", ms=4, label=ab) for ab in abilities]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(6, len(abilities)), fontsize=8)
    fig.suptitle(f"{summary.model}: which abilities break under which stress "
                 "(accuracy per ability; intervals in the report tables)")
    return _save(fig, path)


def flip_bars(summary: Summary, path: Path) -> Path:
    """Share of paired items that flip correct -> wrong and wrong -> correct, per sub-type,
    with the dimension totals on top."""
    rows = [(f"{d} (all)", p) for d, p in summary.paired_by_dimension.items()]
    rows += [(k.replace("/", ": "), p) for k, p in summary.paired_by_subtype.items()]
    y = np.arange(len(rows))[::-1].astype(float)
    cw = np.array([100 * p.flip_correct_to_wrong for _, p in rows])
    wc = np.array([100 * p.flip_wrong_to_correct for _, p in rows])
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(rows) + 1.4), layout="constrained")
    ax.barh(y + 0.2, cw, 0.4, color="#d62728", label="correct → wrong")
    ax.barh(y - 0.2, wc, 0.4, color="#2ca02c", label="wrong → correct")
    for yy, a, b in zip(y, cw, wc, strict=True):
        ax.text(a + 0.3, yy + 0.2, f"{a:.1f}", va="center", fontsize=7)
        ax.text(b + 0.3, yy - 0.2, f"{b:.1f}", va="center", fontsize=7)
    ndims = len(summary.paired_by_dimension)
    ax.axhline(y[ndims - 1] - 0.5, color="black", lw=0.8)
    ax.set_yticks(y, [r[0] for r in rows], fontsize=8)
    for t in ax.get_yticklabels()[:ndims]:
        t.set_fontweight("bold")
    ax.set_xlim(0, max(5.0, float(max(cw.max(), wc.max())) * 1.15))
    ax.set_xlabel("% of paired items (stressed vs its clean twin)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(f"{summary.model}: answer flips vs the clean twin")
    ax.legend(fontsize=8, loc="best")
    return _save(fig, path)


def interaction_grid(summary: Summary) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Dimensions, and dimension x dimension grids of the additive and multiplicative interactions
    (pp, both triangles) and whether each is flagged (interval excludes 0); NaN: no compound."""
    it = summary.interaction
    pairs = it.by_pair if it is not None else {}
    dims = [d for d in DIMENSIONS if any(d in k.split("+") for k in pairs)]
    add, mult = np.full((len(dims), len(dims)), np.nan), np.full((len(dims), len(dims)), np.nan)
    flag = np.zeros((2, len(dims), len(dims)), bool)
    for k, c in pairs.items():
        a, b = k.split("+")
        for i, j in ((dims.index(a), dims.index(b)), (dims.index(b), dims.index(a))):
            add[i, j] = 100 * c.additive
            mult[i, j] = np.nan if c.multiplicative is None else 100 * c.multiplicative
            flag[0, i, j] = c.additive_flag != "not detected"
            flag[1, i, j] = c.multiplicative_flag != "not detected"
    return dims, add, mult, flag


def interaction_heatmap(summary: Summary, path: Path) -> Path:
    """Dimension x dimension: the additive (left) and multiplicative (right) interaction of each
    pair in percentage points (red: the combination hurts more than predicted); '*' where the 95%
    interval excludes 0."""
    dims, add, mult, flag = interaction_grid(summary)
    lim = max(10.0, float(np.ceil(np.nanmax(np.abs(np.concatenate([add, mult])), initial=0) / 10) * 10))
    cmap, norm = plt.get_cmap("RdBu_r"), plt.Normalize(-lim, lim)
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.7 * len(dims) + 2.4), layout="constrained")
    for ax, grid, flags, name in ((axes[0], add, flag[0], "additive"), (axes[1], mult, flag[1], "multiplicative")):
        im = ax.imshow(grid, cmap=cmap, norm=norm, aspect="equal")
        _annotate(ax, grid, cmap, norm, "{:+.0f}")
        for (i, j), f in np.ndenumerate(flags):
            if f:
                ax.text(j + 0.32, i - 0.28, "*", ha="center", va="center", fontsize=11, color="black")
        ax.set_xticks(range(len(dims)), dims, rotation=20, fontsize=9)
        ax.set_yticks(range(len(dims)), dims, fontsize=9)
        ax.set_title(f"{name}: observed - predicted drop (pp)", fontsize=10)
        fig.colorbar(im, ax=ax, shrink=0.8, label="pp (red = worse than predicted)")
    fig.suptitle(f"{summary.model}: interaction of two factors per dimension pair "
                 "(* = 95% scene-bootstrap interval excludes 0)")
    return _save(fig, path)


@dataclass(frozen=True)
class Figure:
    """One figure of a run's report, written to figures/<name>.png."""

    name: str
    """Its file stem and key (``figure_<name>`` among write_report's files)."""
    build: Callable[[Summary, Path], Path]
    """Writes the PNG from the summary and returns its path."""
    title: str
    """Its heading in report.html."""
    caption: str
    """What it shows, in one sentence."""
    shown: Callable[[Summary], bool] = lambda s: True
    """Whether the run has what it shows (every figure needs stressed items paired with their twins)."""


# the report's figures, in order: the one place that lists them (report.md names their files,
# report.html inlines them, write_report writes them)
FIGURES: dict[str, Figure] = {f.name: f for f in (
    Figure("heatmap", heatmap, "heatmap",
           "Accuracy per sub-type and severity, and the paired drop vs the clean twins."),
    Figure("severity_curves", severity_curves, "severity curves",
           "Accuracy vs severity per dimension with its 95% scene-bootstrap band, sub-types and breaking point."),
    Figure("ability_curves", ability_curves, "ability curves",
           "Accuracy vs severity per dimension for each ability."),
    Figure("flips", flip_bars, "flips",
           "Shares of paired items flipping correct to wrong and wrong to correct, per dimension and sub-type."),
    Figure("interaction", interaction_heatmap, "interaction of two factors",
           "Per dimension pair, the compound's drop minus the additive and the multiplicative prediction.",
           lambda s: s.interaction is not None and bool(s.interaction.by_pair)),
)}


def shown_figures(summary: Summary) -> list[str]:
    """Names of the figures this summary gets, in registry order."""
    return [n for n, f in FIGURES.items() if summary.n_pairs and f.shown(summary)]


def all_figures(summary: Summary, out_dir: Path) -> dict[str, Path]:
    """Write every figure into ``out_dir`` (none when no stressed item has its clean twin)."""
    return {name: FIGURES[name].build(summary, out_dir / f"{name}.png") for name in shown_figures(summary)}
