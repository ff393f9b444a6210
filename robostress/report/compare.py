"""One report for several runs on one benchmark: per-dimension table per model, overlaid severity
curves, a dimension x ability heatmap per model and paired differences between models with
scene-resampled intervals; written as compare.md, compare.html, compare.json and CSV + LaTeX
tables.

    runs = load_runs([Path("runs/mini/classical"), Path("runs/mini/random")])
    write_comparison(Path("runs/mini/compare"), runs)

Every interval is the two-stage cluster bootstrap of ``robostress.metrics`` (scenes, then
clean-twin families); a paired difference uses only the items both runs answered.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robostress.benchmark.load import Benchmark
from robostress.errors import DataError
from robostress.metrics import (
    Gain,
    Headline,
    HeadlineCell,
    Interactions,
    Summary,
    compare,
    summarize,
)
from robostress.metrics.environment import EnvironmentRow, by_environment
from robostress.metrics.runs import load_predictions
from robostress.metrics.serial import Record
from robostress.metrics.stats import BOOTSTRAP_RESAMPLES
from robostress.render.io import write_atomic
from robostress.report import html as H
from robostress.report.compare_figures import dimension_ability_heatmap, overlaid_curves
from robostress.report.figures import interaction_heatmap
from robostress.report.markdown import render_blocks
from robostress.report.sections import environment_cells
from robostress.report.tables import (
    INTERACTION_HEADER,
    INTERACTION_HOW,
    Block,
    interaction_row,
    pct,
)
from robostress.scoring.prediction import Prediction

COMPARE_SCHEMA_VERSION = 1
PAIRS = ("all", "first")


@dataclass
class Run:
    """One evaluated run: its label, folder, benchmark hash, predictions and summary."""

    label: str
    run_dir: Path | None
    benchmark_hash: str
    predictions: list[Prediction]
    summary: Summary
    environment_of: dict[str, str] = field(default_factory=dict)
    """Scene id -> environment, for a run on a multi-environment build (issue 24; else empty)."""


@dataclass(frozen=True)
class Difference(Record):
    """Paired difference b - a of two runs on the items both answered."""

    a: str
    """Label of the first run."""
    b: str
    """Label of the second run."""
    n_only_a: int
    """Items only run a answered."""
    n_only_b: int
    """Items only run b answered."""
    overall: Gain
    """All shared items."""
    by_dimension: Mapping[str, Gain]
    """Per dimension ('clean': the clean items)."""


@dataclass(frozen=True)
class RunComparison(Record):
    """compare.json: the headline numbers of each run and the paired differences between runs."""

    schema_version: int
    """Version of this layout (COMPARE_SCHEMA_VERSION)."""
    benchmark_hash: str
    """Content hash of the runs' benchmark."""
    models: Mapping[str, Headline]
    """Run label -> its headline numbers, in run order."""
    pairs: str
    """Which pairs were compared: 'all' or 'first'."""
    paired_differences: tuple[Difference, ...]
    """One per compared pair."""
    difference: str
    """What a difference means."""
    interactions: Mapping[str, Interactions] | None = field(default=None, metadata={"omit_none": True})
    """Run label -> its interaction analysis, for runs with compound items (absent when none has)."""
    by_environment: Mapping[str, tuple[EnvironmentRow, ...]] | None = field(default=None, metadata={"omit_none": True})
    """Run label -> clean accuracy and each dimension's paired drop per environment, for runs on a
    multi-environment build whose folder is at hand (absent otherwise)."""


def load_run(run_dir: Path, resamples: int = BOOTSTRAP_RESAMPLES) -> Run:
    """Read ``run.json`` and ``predictions.jsonl`` of a run folder and summarise it afresh."""
    run_dir = Path(run_dir)
    meta_path = run_dir / "run.json"
    if not meta_path.is_file():
        raise DataError(f"{run_dir} is not a run folder (no run.json); pass folders written by robostress eval")
    try:
        meta = json.loads(meta_path.read_text())
        bench_hash = str(meta["benchmark"]["content_hash"])
    except (ValueError, KeyError, TypeError) as e:
        raise DataError(f"{meta_path} is not a valid run.json ({e})") from e
    preds = load_predictions(run_dir / "predictions.jsonl")
    if not preds:
        raise DataError(f"{run_dir} has no predictions yet; run robostress eval into it first")
    return Run(str(meta.get("label") or run_dir.name), run_dir, bench_hash, preds,
               summarize(preds, resamples=resamples), environments_of(meta["benchmark"].get("path")))


def environments_of(bench_dir: str | None) -> dict[str, str]:
    """Scene id -> environment of a run's benchmark folder (``Benchmark.environments``), empty
    where the folder is not at hand."""
    if not bench_dir or not (Path(bench_dir) / "manifest.json").is_file():
        return {}
    return Benchmark(bench_dir).environments


def load_runs(run_dirs: list[Path], resamples: int = BOOTSTRAP_RESAMPLES) -> list[Run]:
    """Load several runs; they must be on one benchmark (same content hash)."""
    if not run_dirs:
        raise DataError("compare needs at least one run folder (runs=[runs/a,runs/b])")
    return check_runs([load_run(d, resamples) for d in run_dirs])


def check_runs(runs: list[Run]) -> list[Run]:
    """One benchmark for all; labels made unique (a repeated label gets its folder name)."""
    first = runs[0]
    for r in runs[1:]:
        if r.benchmark_hash != first.benchmark_hash:
            raise DataError(f"runs are on different benchmarks: {first.label} on {first.benchmark_hash[:12]}, "
                            f"{r.label} on {r.benchmark_hash[:12]}; compare runs of one benchmark")
    seen: set[str] = set()
    for r in runs:
        if r.label in seen:
            r.label = f"{r.label} ({r.run_dir.name if r.run_dir else len(seen)})"
        if r.label in seen:
            raise DataError(f"two runs are both labelled {r.label!r}; pass each run folder once")
        seen.add(r.label)
    return runs


def comparison(runs: list[Run], pairs: str = "all", seed: int = 0,
               resamples: int = BOOTSTRAP_RESAMPLES) -> RunComparison:
    """The comparison (compare.json): per-model headline numbers and the paired differences.

    Args:
        runs: runs on one benchmark (``check_runs``).
        pairs: 'all' (every pair of runs) or 'first' (every run against the first).
        seed: bootstrap seed (each pair and group derives its own).
        resamples: bootstrap resamples.
    """
    if pairs not in PAIRS:
        raise DataError(f"pairs must be one of {', '.join(PAIRS)}, got {pairs!r}")
    idx = [(0, j) for j in range(1, len(runs))] if pairs == "first" else \
        [(i, j) for i in range(len(runs)) for j in range(i + 1, len(runs))]
    diffs = []
    for i, j in idx:
        c = compare(runs[i].predictions, runs[j].predictions, seed=seed, resamples=resamples)
        diffs.append(Difference(a=runs[i].label, b=runs[j].label, n_only_a=c.n_only_in_base,
                                n_only_b=c.n_only_in_other, overall=c.overall,
                                by_dimension={("clean" if k == "none" else k): v for k, v in c.by_dimension.items()}))
    inter = {r.label: r.summary.interaction for r in runs if r.summary.interaction is not None}
    envs = {r.label: tuple(by_environment(r.predictions, r.environment_of, seed, resamples))
            for r in runs if r.environment_of}
    return RunComparison(schema_version=COMPARE_SCHEMA_VERSION, benchmark_hash=runs[0].benchmark_hash,
                         models={r.label: r.summary.headline() for r in runs}, pairs=pairs,
                         paired_differences=tuple(diffs),
                         difference="accuracy of b minus accuracy of a on the items both answered; 95% "
                                    "two-stage cluster bootstrap (scenes, then clean-twin families)",
                         interactions=inter or None, by_environment=envs or None)


def environment_long_rows(envs: Mapping[str, Sequence[EnvironmentRow]]) -> list[list[Any]]:
    """Machine-readable rows of the per-environment table (full precision): the clean accuracy,
    then each dimension's paired drop, per run and environment."""
    out: list[list[Any]] = [["model", "environment", "n_scenes", "scope", "name", "n", "value", "ci95_lo", "ci95_hi"]]
    for label, rows in envs.items():
        for r in rows:
            c = r.clean
            out.append([label, r.environment, r.n_scenes, "clean_accuracy", "all", c.n, c.accuracy, c.ci95[0], c.ci95[1]])
            out += [[label, r.environment, r.n_scenes, "drop", d, g.n_pairs, g.drop, g.drop_ci95[0], g.drop_ci95[1]]
                    for d, g in sorted(r.paired_by_dimension.items())]
    return out


def environment_rows(envs: Mapping[str, Sequence[EnvironmentRow]]) -> tuple[list[str], list[list[str]]]:
    """Per run and environment: scenes, clean accuracy and each dimension's paired drop (95% CIs)."""
    dims = sorted({d for rows in envs.values() for r in rows for d in r.paired_by_dimension})
    header = ["model", "environment", "scenes", "clean acc % [95% CI]", *(f"{d} drop pp [95% CI]" for d in dims)]
    return header, [[label, r.environment, str(r.n_scenes), *environment_cells(r, dims)]
                    for label, rows in envs.items() for r in rows]


def interaction_rows(inter: Mapping[str, Interactions]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the interaction table: one row per model and dimension pair."""
    rows = [[label, *interaction_row(pair, c)] for label, it in inter.items() for pair, c in it.by_pair.items()]
    return ["model", "dimension pair", *INTERACTION_HEADER[1:]], rows


def _ci(c: HeadlineCell) -> str:
    return f"{pct(c.accuracy)} [{pct(c.ci95[0])}, {pct(c.ci95[1])}]"


def dimension_rows(models: Mapping[str, Headline]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the per-dimension table (one row per model)."""
    dims = sorted({d for h in models.values() for d in h.by_dimension})
    header = ["model", "clean % [95% CI]", "stressed % [95% CI]"] + [f"{d} %" for d in dims] + ["worst dimension"]
    rows = []
    for label, h in models.items():
        w = h.worst_dimension
        rows.append([label, _ci(h.clean), _ci(h.stressed)]
                    + [_ci(h.by_dimension[d]) if d in h.by_dimension else "–" for d in dims]
                    + [f"{w.dimension if w else '–'} ({pct(w.accuracy if w else None)})"])
    return header, rows


def _scopes(d: Difference) -> list[tuple[str, Gain]]:
    return [("overall", d.overall), *d.by_dimension.items()]


def difference_rows(diffs: Sequence[Difference]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the paired-difference table (overall and per dimension)."""
    header = ["a", "b", "scope", "n pairs", "scenes", "a %", "b %", "b - a (pp) [95% CI]", "MDD (pp)"]
    rows = []
    for d in diffs:
        for scope, g in _scopes(d):
            rows.append([d.a, d.b, scope, str(g.n), str(g.n_scenes), pct(g.base), pct(g.other),
                         f"{pct(g.gain, True)} [{pct(g.gain_ci95[0], True)}, {pct(g.gain_ci95[1], True)}]",
                         pct(g.mdd)])
    return header, rows


def long_rows(comp: RunComparison) -> tuple[list[list[Any]], list[list[Any]]]:
    """Machine-readable rows for the CSV files (full precision)."""
    acc: list[list[Any]] = [["model", "scope", "name", "n", "n_scenes", "accuracy", "ci95_lo", "ci95_hi"]]
    for label, h in comp.models.items():
        for scope, name, c in [("clean", "all", h.clean), ("stressed", "all", h.stressed),
                               *[("dimension", d, c) for d, c in h.by_dimension.items()]]:
            acc.append([label, scope, name, c.n, c.n_scenes, c.accuracy, c.ci95[0], c.ci95[1]])
    diff: list[list[Any]] = [["a", "b", "scope", "n", "n_scenes", "accuracy_a", "accuracy_b", "difference",
                              "ci95_lo", "ci95_hi", "mdd"]]
    for d in comp.paired_differences:
        for scope, g in _scopes(d):
            diff.append([d.a, d.b, scope, g.n, g.n_scenes, g.base, g.other, g.gain, g.gain_ci95[0], g.gain_ci95[1],
                         g.mdd])
    return acc, diff


def to_csv(rows: list[list[Any]]) -> bytes:
    """CSV bytes (a cell that a spreadsheet would run as a formula is quoted with a leading ')."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for r in rows:
        w.writerow(["'" + c if isinstance(c, str) and c[:1] in ("=", "+", "-", "@") else c for c in r])
    return buf.getvalue().encode()


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
        "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def tex_escape(text: str) -> str:
    """Text safe inside a LaTeX tabular (every special character escaped)."""
    return "".join(_TEX.get(ch, ch) for ch in str(text))


def to_latex(header: list[str], rows: list[list[str]], caption: str) -> bytes:
    """A booktabs table."""
    lines = [r"\begin{table}[t]", r"\centering\small", r"\begin{tabular}{l" + "r" * (len(header) - 1) + "}",
             r"\toprule", " & ".join(tex_escape(h) for h in header) + r" \\", r"\midrule"]
    lines += [" & ".join(tex_escape(c) for c in r) + r" \\" for r in rows]
    lines += [r"\bottomrule", r"\end{tabular}", rf"\caption{{{tex_escape(caption)}}}", r"\end{table}", ""]
    return "\n".join(lines).encode()


def write_comparison(out_dir: Path, runs: list[Run], *, pairs: str = "all", seed: int = 0,
                     resamples: int = BOOTSTRAP_RESAMPLES, title: str | None = None) -> dict[str, Path]:
    """Write compare.json, compare.md, compare.html, tables/*.csv|tex and figures/*.png."""
    runs = check_runs(runs)
    comp = comparison(runs, pairs, seed, resamples)
    out_dir = Path(out_dir)
    title = title or f"robostress: {len(runs)} runs compared on benchmark {comp.benchmark_hash[:12]}"
    dh, dr = dimension_rows(comp.models)
    ph, pr = difference_rows(comp.paired_differences)
    acc_csv, diff_csv = long_rows(comp)
    files = {"json": out_dir / "compare.json", "md": out_dir / "compare.md", "html": out_dir / "compare.html",
             "dimensions_csv": out_dir / "tables/per_dimension.csv",
             "dimensions_tex": out_dir / "tables/per_dimension.tex",
             "differences_csv": out_dir / "tables/paired_differences.csv",
             "differences_tex": out_dir / "tables/paired_differences.tex"}
    for p in files.values():
        p.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(files["json"], json.dumps(comp.to_dict(), indent=1, allow_nan=False).encode())  # models in run order
    write_atomic(files["dimensions_csv"], to_csv(acc_csv))
    write_atomic(files["differences_csv"], to_csv(diff_csv))
    write_atomic(files["dimensions_tex"], to_latex(dh, dr, "Accuracy per dimension (95% scene-bootstrap CI)."))
    write_atomic(files["differences_tex"], to_latex(ph, pr, "Paired differences b - a in percentage points "
                                                            "(95% two-stage cluster bootstrap CI)."))
    blocks = [Block("h1", title),
              Block("p", "Each row is one run on the same benchmark. Intervals are 95% two-stage cluster "
                         "bootstraps (scenes, then clean-twin families). A paired difference is b minus a "
                         "on the items both runs answered; MDD is its minimum detectable difference "
                         "(2.80 x its bootstrap standard error). Each run's own report has the per-cell "
                         "tables and scene counts."),
              Block("h2", "Per dimension"), Block("table", header=dh, rows=dr),
              Block("h2", "Paired differences between models"), Block("table", header=ph, rows=pr)]
    if comp.by_environment:
        eh, er = environment_rows(comp.by_environment)
        files["environments_csv"] = out_dir / "tables/per_environment.csv"
        write_atomic(files["environments_csv"], to_csv(environment_long_rows(comp.by_environment)))
        blocks += [Block("h2", "Per environment"),
                   Block("p", "Clean accuracy and each dimension's paired drop (clean twins minus stressed items "
                              "on the same questions) per environment of the build, 95% scene-bootstrap intervals; "
                              "with few scenes an environment's interval is wide."),
                   Block("table", header=eh, rows=er)]
    if comp.interactions:
        ih, ir = interaction_rows(comp.interactions)
        blocks += [Block("h2", "Interaction of two factors per model"), Block("p", INTERACTION_HOW),
                   Block("table", header=ih, rows=ir)]
    figs = {}
    summaries = {r.label: r.summary for r in runs}
    if any(s.n_pairs for s in summaries.values()):
        figs["severity_curves"] = overlaid_curves(summaries, out_dir / "figures/severity_curves.png")
    for i, r in enumerate(runs):
        slug = re.sub(r"[^A-Za-z0-9.+-]+", "_", r.label)[:60]
        figs[f"heatmap_{i}"] = dimension_ability_heatmap(r.summary, out_dir / f"figures/dimension_ability_{i:02d}_{slug}.png")
        if r.summary.interaction is not None and r.summary.interaction.by_pair:
            figs[f"interaction_{i}"] = interaction_heatmap(r.summary, out_dir / f"figures/interaction_{i:02d}_{slug}.png")
    lines = render_blocks(blocks) + ["Figures: " + ", ".join(f"`{p.relative_to(out_dir)}`" for p in figs.values()),
                                     "", "Tables: `tables/per_dimension.csv|tex`, `tables/paired_differences.csv|tex`.", ""]
    write_atomic(files["md"], "\n".join(lines).encode())
    parts = [H.blocks_html(blocks)]
    parts += [f"<h2>Figure: {H.esc(p.stem.replace('_', ' '))}</h2><img src='{H.png_data_url(p)}' alt=''>"
              for p in figs.values()]
    write_atomic(files["html"], H.page(title, parts).encode())
    return {**files, **{f"figure_{k}": v for k, v in figs.items()}}
