"""Per sub-type severity curves of eval runs, with the scene-bootstrap paired intervals of their
summary.json, as markdown tables:

    python bench/severity_curves.py RUN_DIR [RUN_DIR ...]

A sub-type "falls" when the paired drop (clean twins minus stressed, the same items) at
severity 4 or 5 has a 95 % interval above 0.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _pct(v: float) -> str:
    return f"{100 * v:.1f}"


def table(run: Path) -> str:
    """The run's headline line, its curves table and its count of falling sub-types."""
    s = json.loads((run / "summary.json").read_text())
    c, st = s["clean"], s["stressed_micro"]
    out = [f"### {s['model']} ({run}): clean {_pct(c['accuracy'])} % [{_pct(c['ci95'][0])}, {_pct(c['ci95'][1])}] "
           f"(n {c['n']}), stressed {_pct(st['accuracy'])} % [{_pct(st['ci95'][0])}, {_pct(st['ci95'][1])}] "
           f"(n {st['n']}), {c['n_scenes']} scenes", "",
           "| sub-type | clean twins % | s1 | s2 | s3 | s4 | s5 | drop s5 pp [95 %] | falls |",
           "|---|---|---|---|---|---|---|---|---|"]
    falls = 0
    for sub, cur in sorted(s["curves_by_subtype"].items()):
        paired = [s["paired_by_subtype_severity"].get(f"{sub}/{k}") for k in (4, 5)]
        f = any(p is not None and p["drop_ci95"][0] > 0 for p in paired)
        falls += f
        p5 = paired[1] or {"drop": float("nan"), "drop_ci95": [float("nan")] * 2}
        out.append(f"| {sub} | {_pct(s['paired_by_subtype'][sub]['clean_accuracy'])} | "
                   + " | ".join(_pct(a) for a in cur["accuracy"])
                   + f" | {100 * p5['drop']:+.1f} [{100 * p5['drop_ci95'][0]:+.1f}, {100 * p5['drop_ci95'][1]:+.1f}] | "
                   + ("yes" if f else "no") + " |")
    dims = ", ".join(f"{d} {100 * v['drop']:+.1f} [{100 * v['drop_ci95'][0]:+.1f}, {100 * v['drop_ci95'][1]:+.1f}]"
                     for d, v in sorted(s["paired_by_dimension"].items()))
    out += ["", f"falls (paired drop at s4 or s5 with its interval above 0): {falls} of {len(s['curves_by_subtype'])} "
            f"sub-types; paired drop per dimension: {dims}"]
    return "\n".join(out)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for arg in sys.argv[1:]:
        if not (Path(arg) / "summary.json").is_file():
            sys.exit(f"{arg}: no summary.json (not an eval run folder)")
        print(table(Path(arg)), end="\n\n")
