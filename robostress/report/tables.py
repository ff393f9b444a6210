"""The report's content as renderer-neutral blocks (headings, paragraphs, lists, tables), built
once from a summary and rendered to Markdown and HTML alike."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from robostress.metrics.records import (
    Cell,
    Curve,
    InteractionCell,
    Interactions,
    PairedCell,
    Summary,
)

HOW_TO_READ = (
    "How to read this: every stressed image is rendered from the same scene as its clean twin, so "
    "results are *paired*. A drop is clean-twin accuracy minus stressed accuracy on the same items, in "
    "percentage points (positive = worse). Items are not independent (questions about one scene share its "
    "objects and layout; the stressed versions of one clean item share that item), so every interval is a "
    "95% two-stage cluster bootstrap: it resamples scenes, then clean-twin families (a clean item and all "
    "its stressed versions) within each drawn scene. Each estimate shows its interval and, in parentheses, "
    "n (items, or pairs for drops) and the number of scenes (sc). The MDD (minimum detectable drop) of a "
    "paired cell is 2.80 x the scene-level bootstrap standard error of its drop: the smallest true drop "
    "found with 80% power at two-sided alpha 0.05 at that cell's n and observed variance ('–' when no pair "
    "flips, so the variance is not estimable); a drop below it is not evidence of robustness. Chance is "
    "computed per item from the `random` baseline's own answer distribution (1/options for multiple "
    "choice, P(IoU >= 0.5) of its random box for boxes, the mask's area fraction for points and "
    "placement); the chance band is where a random answerer's accuracy falls with 95% probability. "
    "Flips count paired items that went from correct to wrong (c→w) and back (w→c). *Micro* averages over "
    "items, *macro* averages over sub-types with equal weight (a point estimate, no interval). The worst "
    "dimension (lowest stressed accuracy, micro) is the number an aggregate hides. The breaking point is "
    "the severity at which accuracy falls halfway from clean to chance, interpolated on the severity curve "
    "('>5': never; 'n/a': clean accuracy is not above chance). CE is the ImageNet-C corruption error "
    "relative to the reference model (summed errors over severities, per sub-type; mCE averages "
    "sub-types): below 1 is more robust than the reference. † marks an interval resampled from fewer than "
    f"{10} scenes: too few to trust.")
FEW_SCENES = 10


@dataclass
class Block:
    """One piece of the report: kind is 'h1', 'h2', 'p', 'ul' or 'table'."""

    kind: str
    text: str = ""
    items: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


def pct(x: float | None, signed: bool = False) -> str:
    """A proportion as a percentage with one decimal ('–' for None; never '-0.0')."""
    if x is None:
        return "–"
    v = round(100 * float(x), 1) + 0.0
    return f"{v:+.1f}" if signed else f"{v:.1f}"


def num(x: float | None, digits: int = 2) -> str:
    """A plain number ('–' for None)."""
    return "–" if x is None else f"{float(x):.{digits}f}"


def _size(n: int | None, scenes: int | None) -> str:
    """' (n N, S sc)', with † when fewer than FEW_SCENES scenes were resampled."""
    few = " †" if scenes is not None and scenes < FEW_SCENES else ""
    return f" (n {n}, {scenes} sc){few}"


def acc_ci(c: Cell | None) -> str:
    """'acc [lo, hi] (n N, S sc)' in percent for a cell."""
    if c is None or c.accuracy is None:
        return "–"
    return f"{pct(c.accuracy)} [{pct(c.ci95[0])}, {pct(c.ci95[1])}]{_size(c.n, c.n_scenes)}"


def drop_ci(p: PairedCell | None) -> str:
    """'drop [lo, hi] (n N, S sc)' in percentage points for a paired cell (n counts pairs)."""
    if p is None:
        return "–"
    return (f"{pct(p.drop, True)} [{pct(p.drop_ci95[0], True)}, {pct(p.drop_ci95[1], True)}]"
            f"{_size(p.n_pairs, p.n_scenes)}")


def mdd(p: PairedCell | None) -> str:
    """The minimum detectable drop in percentage points ('–' when not estimable)."""
    return pct(p.mdd) if p is not None and p.mdd else "–"


def curve_point(c: Curve, i: int | None) -> str:
    """'acc [lo, hi] (n N, S sc)' of severity index ``i`` of a curve, or of its clean point (None)."""
    if i is None:
        few = " †" if c.clean_n_scenes < FEW_SCENES else ""
        return (f"{pct(c.clean)} [{pct(c.clean_ci95[0])}, {pct(c.clean_ci95[1])}] "
                f"({c.clean_n_twins} twins, {c.clean_n_scenes} sc){few}")
    lo, hi = c.ci95[i]
    return f"{pct(c.accuracy[i])} [{pct(lo)}, {pct(hi)}]{_size(c.n[i], c.n_scenes[i])}"


def bp(curve: Curve | None) -> str:
    """A breaking point: the severity, '>max' if never reached, 'n/a' if clean <= chance."""
    if curve is None:
        return "–"
    if curve.breaking_point is not None:
        return num(curve.breaking_point)
    if curve.clean <= curve.chance:
        return "n/a"
    return f">{max(curve.severities, default=5)}"


def _headline(s: Summary) -> Block:
    ce = s.corruption_error
    items = [f"model: {s.model} ({s.n_predictions} predictions: {s.n_clean} clean, "
             f"{s.n_stressed} stressed, {s.n_pairs} paired with their clean twin)",
             f"clean accuracy: {acc_ci(s.clean)}",
             f"stressed accuracy, micro over items: {acc_ci(s.stressed_micro)}",
             f"stressed accuracy, macro over sub-types: {pct(s.stressed_macro_over_subtypes)}"]
    w = s.worst_dimension
    if w:
        items.append(f"worst dimension ({w.metric}): {w.dimension} {acc_ci(s.by_dimension[w.dimension])}")
    if ce:
        items.append(f"mCE vs reference '{ce.reference_model}' (mean over sub-types): {num(ce.mce, 3)}")
    st = s.stressed_micro
    items.append(f"unparsable answers: {pct(st.unparsable_rate)}% stressed, "
                 f"{pct(s.clean.unparsable_rate)}% clean; backend errors: {pct(st.error_rate)}% "
                 f"stressed, {pct(s.clean.error_rate)}% clean; stressed items without their clean "
                 f"twin: {s.n_unpaired_stressed}")
    return Block("ul", items=items)


def _per_dimension(s: Summary) -> list[Block]:
    mce = s.corruption_error.mce_per_dimension if s.corruption_error else {}
    rows = []
    for dim, c in s.by_dimension.items():
        p = s.paired_by_dimension.get(dim)
        curve = s.curves_by_dimension.get(dim)
        rows.append([dim, acc_ci(c), curve_point(curve, None) if curve else "–", drop_ci(p), mdd(p),
                     pct(p.flip_correct_to_wrong if p else None), pct(p.flip_wrong_to_correct if p else None),
                     num(p.relative_robustness if p else None), bp(curve),
                     pct(s.macro_by_dimension.get(dim)), num(mce.get(dim))])
    header = ["dimension", "stressed acc % [95% CI] (micro)", "clean twins acc % [95% CI]", "drop pp [95% CI]",
              "MDD pp", "flips c→w %", "flips w→c %", "rel. robustness", "breaking point",
              "macro over sub-types %", "mCE"]
    return [Block("h2", "Per dimension (stressed items vs their clean twins)"),
            Block("table", header=header, rows=rows)]


def _subtype_severity(s: Summary) -> list[Block]:
    curves = s.curves_by_subtype
    sevs = sorted({v for c in curves.values() for v in c.severities})
    ce = s.corruption_error.per_subtype if s.corruption_error else {}
    rows = []
    for name, c in curves.items():
        at = {v: i for i, v in enumerate(c.severities)}
        rows.append([name, curve_point(c, None)] + [curve_point(c, at[v]) if v in at else "–" for v in sevs]
                    + [bp(c), num(ce.get(name))])
    header = ["dimension/sub-type", "clean"] + [f"s{v}" for v in sevs] + ["breaking point", "CE"]
    return [Block("h2", "Accuracy % [95% CI] per sub-type and severity (paired items; clean = their clean "
                        "twins)"),
            Block("table", header=header, rows=rows)]


def _paired_subtype(s: Summary) -> list[Block]:
    rows = []
    for name, p in s.paired_by_subtype.items():
        sub = s.by_subtype.get(name)
        rows.append([name, pct(p.clean_accuracy), pct(p.stressed_accuracy),
                     drop_ci(p), mdd(p), pct(p.flip_correct_to_wrong), pct(p.flip_wrong_to_correct),
                     num(p.relative_robustness), pct(sub.unparsable_rate if sub else None)])
    header = ["dimension/sub-type", "clean %", "stressed %", "drop pp [95% CI]", "MDD pp", "flips c→w %",
              "flips w→c %", "rel. robustness", "unparsable %"]
    return [Block("h2", "Paired drops and flips per sub-type (all severities)"),
            Block("table", header=header, rows=rows)]


def _abilities(s: Summary) -> list[Block]:
    abilities = sorted(set(s.by_ability_clean) | set(s.by_ability_stressed))
    rows = []
    for ab in abilities:
        c, t = s.by_ability_clean.get(ab), s.by_ability_stressed.get(ab)
        p = s.paired_by_ability.get(ab)
        rows.append([ab, acc_ci(c), acc_ci(t), drop_ci(p), mdd(p), pct(t.unparsable_rate if t else None)])
    header = ["ability", "clean acc % [95% CI]", "stressed acc % [95% CI]", "drop pp [95% CI]", "MDD pp",
              "unparsable %"]
    dims = list(s.by_dimension)
    grid = []
    for ab in abilities:
        cells = []
        for d in dims:
            c = s.by_dimension_ability.get(f"{d}/{ab}")
            p = s.paired_by_dimension_ability.get(f"{d}/{ab}")
            cells.append("–" if not c else f"{acc_ci(c)}; drop {drop_ci(p)}")
        grid.append([ab] + cells)
    return [Block("h2", "Per ability"), Block("table", header=header, rows=rows),
            Block("h2", "Which stress breaks which ability: stressed acc % [95% CI]; paired drop pp [95% CI]"),
            Block("table", header=["ability"] + dims, rows=grid)]


def _chance(s: Summary) -> list[Block]:
    rows = []
    for which, groups in (("clean", s.by_format_clean), ("stressed", s.by_format_stressed)):
        for fmt, c in groups.items():
            band = f"[{pct(c.chance_band95[0])}, {pct(c.chance_band95[1])}]" if c.chance_band95 else "–"
            rows.append([fmt, which, acc_ci(c), pct(c.chance), band, num(c.mean_score, 3)])
    header = ["format", "subset", "accuracy % [95% CI]", "chance % (computed)", "random answerer's 95% band %",
              "mean score (IoU for boxes)"]
    return [Block("h2", "Accuracy against chance per answer format"), Block("table", header=header, rows=rows)]


def _cells(s: Summary) -> list[Block]:
    rows = [[name, acc_ci(s.by_cell.get(name)), drop_ci(p), mdd(p)] for name, p in s.paired_by_cell.items()]
    header = ["dimension/sub-type/severity/ability", "stressed acc % [95% CI]", "drop pp [95% CI]", "MDD pp"]
    return [Block("h2", "Per cell: dimension × sub-type × severity × ability"), Block("table", header=header, rows=rows)]


INTERACTION_HOW = (
    "A compound item asks the same question of a frame with two factors of two dimensions at once, "
    "beside its clean twin and the frames with each factor alone: four answers to one question (a "
    "quadruple). Drops are clean minus factor accuracy on the same quadruples. *Additive* = the "
    "compound's drop minus (drop A + drop B); *multiplicative* = the compound's drop minus the drop "
    "predicted by multiplying the two accuracy ratios (clean - clean x (A/clean) x (B/clean)). Positive "
    "means the combination hurts more than predicted; a pair is flagged super- or sub- only where the 95% "
    "interval (scenes, then clean-twin families, the four answers drawn together) excludes 0. MDI is the "
    "minimum detectable additive interaction (2.80 x its standard error). Combination-only flips: right on "
    "the clean twin and under each factor alone, wrong under both.")


def interaction_ci(x: float | None, ci: tuple[float, float] | None) -> str:
    """'+x [lo, hi]' in percentage points ('–' when undefined)."""
    if x is None or ci is None:
        return "–"
    return f"{pct(x, True)} [{pct(ci[0], True)}, {pct(ci[1], True)}]"


def interaction_row(name: str, c: InteractionCell) -> list[str]:
    """One row of the interaction tables."""
    return [name, f"{c.n_quads} ({c.n_scenes} sc){' †' if c.n_scenes < FEW_SCENES else ''}",
            pct(c.clean_accuracy), pct(c.drop_a, True), pct(c.drop_b, True),
            interaction_ci(c.drop_compound, c.drop_compound_ci95),
            interaction_ci(c.additive, c.additive_ci95), c.additive_flag, pct(c.additive_mdi) if c.additive_mdi else "–",
            interaction_ci(c.multiplicative, c.multiplicative_ci95), c.multiplicative_flag,
            pct(c.combination_only_flips)]


INTERACTION_HEADER = ["pair", "quadruples", "clean %", "drop A pp", "drop B pp", "compound drop pp [95% CI]",
                      "additive pp [95% CI]", "additive", "MDI pp", "multiplicative pp [95% CI]",
                      "multiplicative", "combination-only flips %"]


def interaction_blocks(it: Interactions) -> list[Block]:
    """The interaction tables: per dimension pair, then per sub-type pair."""
    return [Block("h2", "Interaction of two factors (compound items vs their clean and single-factor twins)"),
            Block("p", INTERACTION_HOW + f" {it.n_quads} of {it.n_compound} compound items have all three twins."),
            Block("table", header=["dimension pair", *INTERACTION_HEADER[1:]],
                  rows=[interaction_row(k, c) for k, c in it.by_pair.items()]),
            Block("h2", "Interaction per sub-type pair (A first in taxonomy order)"),
            Block("table", header=["dimension pair/sub-type pair", *INTERACTION_HEADER[1:]],
                  rows=[interaction_row(k, c) for k, c in it.by_subtype_pair.items()])]


def _interaction(s: Summary) -> list[Block]:
    return interaction_blocks(s.interaction) if s.interaction is not None else []


def _side_by_side(rows_in: Mapping[str, Summary]) -> list[Block]:
    dims = sorted({d for r in rows_in.values() for d in r.by_dimension})
    rows = []
    for label, r in rows_in.items():
        w = r.worst_dimension
        rows.append([label, acc_ci(r.clean), acc_ci(r.stressed_micro), pct(r.stressed_macro_over_subtypes)]
                    + [acc_ci(r.by_dimension.get(d)) for d in dims]
                    + [w.dimension if w else "–", num(r.corruption_error.mce if r.corruption_error else None)])
    header = ["model", "clean", "stressed (micro)", "stressed (macro, no CI)"] + dims + ["worst dimension", "mCE"]
    return [Block("h2", "Models side by side (accuracy % [95% CI]; per-dimension columns are stressed, micro)"),
            Block("table", header=header, rows=rows)]


@dataclass(frozen=True)
class Section:
    """One section of a run's report."""

    name: str
    """Its name."""
    build: Callable[[Summary], list[Block]]
    """Its blocks from the summary."""
    needs_stressed: bool
    """Shown only when the run has stressed items."""


# the report's sections, in order: the one place that lists them (extra rows, extra sections and
# figures follow; see ``build_blocks`` and the renderers)
SECTIONS: tuple[Section, ...] = (
    Section("headline", lambda s: [_headline(s)], False),
    Section("per_dimension", _per_dimension, True),
    Section("subtype_severity", _subtype_severity, True),
    Section("paired_subtype", _paired_subtype, True),
    Section("abilities", _abilities, False),
    Section("chance", _chance, False),
    Section("cells", _cells, True),
    Section("interaction", _interaction, False),  # empty without compound items
)


def build_blocks(summary: Summary, title: str, extra_rows: Mapping[str, Summary] | None = None) -> list[Block]:
    """All blocks of the report, in order (extra sections and figures are added by renderers)."""
    blocks = [Block("h1", title), Block("p", HOW_TO_READ)]
    for sec in SECTIONS:
        if summary.n_stressed or not sec.needs_stressed:
            blocks += sec.build(summary)
    if extra_rows:
        blocks += _side_by_side(extra_rows)
    return blocks
