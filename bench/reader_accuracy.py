"""Tables for docs/reader.md from run folders: clean accuracy per question type beside other runs
(margins in points), and per stress sub-type the accuracy at each severity on paired items.

    python bench/reader_accuracy.py [--from-scene N] RUN_DIR [RUN_DIR ...]   # the first run is the reader

--from-scene N keeps scenes whose index (the scene id's last field) is N or more: the train
split's scenes 0-59 fitted ``prior``, so a held-out train-split build is scored from scene 60.

Standard errors are item-level binomial (sqrt(p(1-p)/n)); the eval's report.md has the scene-
bootstrap intervals. A sub-type 'falls' when the accuracy at severities 4-5 is below its clean
twins' by more than two standard errors of the difference.
"""

from __future__ import annotations

import json
import math
import sys
from collections import defaultdict
from pathlib import Path


def _read(run: Path) -> list[dict]:
    return [json.loads(ln) for ln in (run / "predictions.jsonl").read_text().splitlines() if ln.strip()]


def _acc(rows: list[dict]) -> tuple[float, float, int]:
    n = len(rows)
    p = sum(r["correct"] for r in rows) / n if n else float("nan")
    return p, math.sqrt(p * (1 - p) / n) if n else float("nan"), n


def main(runs: list[Path], from_scene: int = 0) -> None:
    preds = {r.name: [x for x in _read(r) if int(x["scene_id"].rsplit("-", 1)[1]) >= from_scene] for r in runs}
    names = list(preds)
    clean = {m: [r for r in rows if r["severity"] == 0 and r["subtype"] == "none"] for m, rows in preds.items()}
    types = sorted({r["qtype"] for r in clean[names[0]]})
    head = "| type | n | chance % | " + " | ".join(f"{m} %" for m in names) + f" | {names[0]} - chance pp | " + \
        " | ".join(f"{names[0]} - {m} pp" for m in names[1:]) + " |"
    print(head)
    print("|" + "---|" * (4 + 2 * len(names) - 1))
    for t in [*types, "all"]:
        cells, accs = [], []
        for m in names:
            rows = [r for r in clean[m] if t in ("all", r["qtype"])]
            p, se, n = _acc(rows)
            accs.append(p)
            cells.append(f"{100 * p:.1f} ± {100 * se:.1f}")
        first = [r for r in clean[names[0]] if t in ("all", r["qtype"])]
        ch = sum(r["chance"] for r in first) / len(first)
        print(f"| {t} | {len(first)} | {100 * ch:.1f} | " + " | ".join(cells) + f" | {100 * (accs[0] - ch):+.1f} | "
              + " | ".join(f"{100 * (accs[0] - a):+.1f}" for a in accs[1:]) + " |")
    print()
    rows = preds[names[0]]
    by_item = {r["item_id"]: r for r in rows}
    cells: dict[str, dict[int, list[dict]]] = defaultdict(lambda: defaultdict(list))
    twins: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if r["severity"] > 0 and "+" not in r["frame_id"] and r["clean_item_id"] in by_item:
            cells[r["subtype"]][r["severity"]].append(r)
            twins[r["subtype"]].append(by_item[r["clean_item_id"]])
    print(f"| sub-type ({names[0]}) | clean twins % | s1 | s2 | s3 | s4 | s5 | s4-5 minus clean pp | falls |")
    print("|---|---|---|---|---|---|---|---|---|")
    falls = 0
    for sub in sorted(cells):
        c, cse, cn = _acc(twins[sub])
        hi = cells[sub][4] + cells[sub][5]
        h, hse, _ = _acc(hi)
        fall = (c - h) > 2 * math.sqrt(cse ** 2 + hse ** 2)
        falls += fall
        sev = " | ".join(f"{100 * _acc(cells[sub][s])[0]:.1f}" if cells[sub][s] else "-" for s in range(1, 6))
        print(f"| {sub} | {100 * c:.1f} | {sev} | {100 * (h - c):+.1f} | {'yes' if fall else 'no'} |")
    print(f"\n{falls} of {len(cells)} sub-types fall (s4-5 below the clean twins by > 2 SE)")


if __name__ == "__main__":
    args = sys.argv[1:]
    start = 0
    if args[:1] == ["--from-scene"]:
        start, args = int(args[1]), args[2:]
    main([Path(a) for a in args], start)
