"""Peak RSS of an evaluation at 1x and 4x the items: is memory flat in the number of items?

Each measurement is a fresh process (``VmHWM`` from /proc/self/status: the peak resident set)
that evaluates one model on the first N items of a built benchmark into a new run folder
(report off, so only the runner is measured). ``--code`` compares two checkouts (e.g. before
and after a change) on the same benchmark. An export folder (``robostress export``) is loaded
inside the measured process into a fresh folder, so its peak includes the load.

    python bench/eval_memory.py --bench benchmarks/mini --models oracle classical+agent
    python bench/eval_memory.py --bench benchmarks/mini --code /path/to/old/checkout .
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, sys
from pathlib import Path
from robostress.evaluate.evaluate import evaluate
bench, model, n, run = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
if Path(bench, "export.json").is_file():  # only then: older checkouts (--code) lack the loader
    from robostress.benchmark.dataset import resolve_benchmark_dir
    bench = resolve_benchmark_dir(Path(bench), Path(run).parent / "datasets", Path(run).parent / "vc")
base, _, agent = model.partition("+")
evaluate(Path(bench), {"backend": base, "label": base}, Path(run), agent_cfg={"name": "stress_aware"} if agent else None,
         limit=n, progress=False, report=False, batch_size=32)
hwm = next(l for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({"peak_rss_kb": int(hwm.split()[1])}))
"""


def peak_rss_kb(code: Path, bench: Path, model: str, n: int) -> int:
    """Peak RSS (KB) of one evaluation of ``n`` items with the robostress at ``code``."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(code.resolve())}
        out = subprocess.run([sys.executable, "-c", CHILD, str(bench), model, str(n), f"{tmp}/run"], env=env,
                             cwd=tmp, capture_output=True, text=True, check=True)
        return int(json.loads(out.stdout.strip().splitlines()[-1])["peak_rss_kb"])


def main() -> None:
    """Print peak RSS at 1x and 4x the items per checkout and model, with the ratio and growth per item."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", type=Path, default=Path("benchmarks/mini"))
    ap.add_argument("--models", nargs="+", default=["oracle", "classical+agent"])
    ap.add_argument("--code", nargs="+", type=Path, default=[Path(__file__).resolve().parents[1]])
    ap.add_argument("--items", type=int, default=None, help="4x size (default: all items of the benchmark)")
    a = ap.parse_args()
    items = a.bench / "items.jsonl" if (a.bench / "items.jsonl").is_file() else a.bench / "records" / "items.jsonl"
    total = sum(1 for _ in open(items))
    big = min(a.items or total, total)
    small = big // 4
    print(f"benchmark {a.bench}: {total} items; 1x = {small}, 4x = {big}")
    print(f"{'checkout':40} {'model':18} {'1x MB':>8} {'4x MB':>8} {'ratio':>6} {'KB/item':>8}")
    for code in a.code:
        for m in a.models:
            lo, hi = peak_rss_kb(code, a.bench, m, small), peak_rss_kb(code, a.bench, m, big)
            print(f"{str(code)[-40:]:40} {m:18} {lo / 1024:8.1f} {hi / 1024:8.1f} {hi / lo:6.2f} "
                  f"{(hi - lo) / (big - small):8.2f}")


if __name__ == "__main__":
    main()
