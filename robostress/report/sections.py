"""Markdown sections added to a report: the agent's paired gains over the same model without it,
the skill ablations (both from ``robostress.metrics.compare``), and the results per environment
of a multi-environment build."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from robostress.metrics.records import Comparison

ABLATION_DIMENSIONS = ("lighting", "viewpoint")  # the dimensions the agent's skills address


def _signed(x: float) -> str:
    return f"{100 * x:+.1f}"


def agent_section(label: str, cmp: Comparison, preds: Sequence[Any]) -> str:
    """Markdown: the agent's paired gain over the same model without it, per dimension and sub-type."""
    edits: dict[str, list[bool]] = {}
    for p in preds:
        step = (p.agent_trace or [{}, {}])[1]
        edits.setdefault(step.get("skill", "?"), []).append(bool(step.get("applied")))
    lines = [f"## Agent: {label} vs the same model without it (paired gain, 95% bootstrap CI)", "",
             "| dimension | n | base acc % | with agent % | gain % [95% CI] |", "|---|---|---|---|---|"]
    for k, g in cmp.by_dimension.items():
        lines.append(f"| {k} | {g.n} | {100 * g.base:.1f} | {100 * g.other:.1f} | {_signed(g.gain)} "
                     f"[{_signed(g.gain_ci95[0])}, {_signed(g.gain_ci95[1])}] |")
    hurt = [k for k, g in cmp.by_subtype_severity.items() if g.gain_ci95[1] < 0]
    helped = [k for k, g in cmp.by_subtype_severity.items() if g.gain_ci95[0] > 0]
    lines += ["", f"Cells where the agent helps significantly: {', '.join(helped) or 'none'}.",
              f"Cells where it hurts significantly: {', '.join(hurt) or 'none'}.",
              "Edits applied per skill: " + ", ".join(f"{k} {sum(v)}/{len(v)}" for k, v in sorted(edits.items())) + ".",
              "Extra model calls per item: 0 (detection and editing need no model call)."]
    return "\n".join(lines)


def ablation_section(ablations: Sequence[tuple[str, Comparison]]) -> str:
    """Markdown: per removed skill, the ablated agent's paired gain over the base model (overall
    with its 95% CI, and per dimension the skills address)."""
    table = ["## Skill ablations: the agent with one skill removed (paired gain over the base model)", "",
             "| ablation | overall gain % [95% CI] | " + " | ".join(ABLATION_DIMENSIONS) + " |",
             "|---|---|" + "---|" * len(ABLATION_DIMENSIONS)]
    for skill, c in ablations:
        o = c.overall
        dims = [c.by_dimension.get(d) for d in ABLATION_DIMENSIONS]
        table.append(f"| without {skill} | {100 * o.gain:+.2f} [{100 * o.gain_ci95[0]:+.2f}, "
                     f"{100 * o.gain_ci95[1]:+.2f}] | "
                     + " | ".join(f"{100 * (g.gain if g else 0):+.2f}" for g in dims) + " |")
    return "\n".join(table)


def environment_cells(r: Any, dims: Sequence[str]) -> list[str]:
    """One environment's clean accuracy [95% CI] and each of ``dims``' paired drop [95% CI], in
    percent ('n/a' where undefined; a ``robostress.metrics.environment.EnvironmentRow``)."""
    c = r.clean
    acc = "n/a" if c.accuracy is None else f"{100 * c.accuracy:.1f} [{100 * c.ci95[0]:.1f}, {100 * c.ci95[1]:.1f}]"
    drops = []
    for d in dims:
        g = r.paired_by_dimension.get(d)
        drops.append("n/a" if g is None else f"{_signed(g.drop)} [{_signed(g.drop_ci95[0])}, {_signed(g.drop_ci95[1])}]")
    return [acc, *drops]


def environment_section(rows: Sequence[Any]) -> str:
    """Markdown: clean accuracy per environment and each dimension's paired drop there (issue 24;
    ``robostress.metrics.environment.by_environment`` rows)."""
    dims = sorted({d for r in rows for d in r.paired_by_dimension})
    lines = ["## Per environment: clean accuracy and each dimension's paired drop (95% scene-bootstrap CI)", "",
             "| environment | scenes | clean acc % [95% CI] | " + " | ".join(f"{d} drop pp" for d in dims) + " |",
             "|---|---|---|" + "---|" * len(dims)]
    for r in rows:
        lines.append(f"| {r.environment} | {r.n_scenes} | " + " | ".join(environment_cells(r, dims)) + " |")
    lines += ["", "A drop is the clean twins' accuracy minus the stressed items' on the same questions; "
              "with few scenes an environment's interval is wide."]
    return "\n".join(lines)
