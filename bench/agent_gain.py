"""The agent's paired gain over its base model, per dimension and per sub-type x severity cell,
with two-stage scene-bootstrap intervals (``robostress.metrics.paired.compare``), as markdown:

    python bench/agent_gain.py BASE_RUN AGENT_RUN [AGENT_RUN ...]

Stressed items only in the dimension rows ('none': the clean items); a cell is a significant
loss (gain) when its interval lies below (above) 0.
"""

from __future__ import annotations

import sys
from pathlib import Path

from robostress.metrics.paired import compare
from robostress.metrics.runs import load_predictions


def _g(g: object) -> str:
    return f"{100 * g.gain:+.2f} [{100 * g.gain_ci95[0]:+.2f}, {100 * g.gain_ci95[1]:+.2f}]"  # type: ignore[attr-defined]


def report(base: Path, agent: Path) -> str:
    """One agent run against its base run."""
    c = compare(load_predictions(base / "predictions.jsonl"), load_predictions(agent / "predictions.jsonl"))
    lines = [f"### {agent.name} against {base.name} ({c.overall.n} items, {c.overall.n_scenes} scenes)", "",
             "| group | n | base % | agent % | gain pp [95 %] |", "|---|---|---|---|---|",
             f"| all | {c.overall.n} | {100 * c.overall.base:.1f} | {100 * c.overall.other:.1f} | {_g(c.overall)} |"]
    lines += [f"| {k} | {g.n} | {100 * g.base:.1f} | {100 * g.other:.1f} | {_g(g)} |" for k, g in sorted(c.by_dimension.items())]
    cells = c.by_subtype_severity
    gains = sorted(k for k, g in cells.items() if g.gain_ci95[0] > 0)
    losses = sorted(k for k, g in cells.items() if g.gain_ci95[1] < 0)
    lines += ["", f"sub-type x severity cells: {len(cells)}; significant gains ({len(gains)}): "
              + (", ".join(f"{k} {_g(cells[k])}" for k in gains) or "none")
              + f"; significant losses ({len(losses)}): " + (", ".join(f"{k} {_g(cells[k])}" for k in losses) or "none")]
    moved = [k for k, g in cells.items() if g.gain != 0]
    lines += [f"cells where the agent changed any answer: {len(moved)}"]
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    for run in sys.argv[2:]:
        print(report(Path(sys.argv[1]), Path(run)), end="\n\n")
