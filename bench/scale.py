"""Scale, measured side by side in one run:

(a) build throughput: frames/s of one build process vs two shard processes (Hydra's joblib
    launcher, ``shard=0,1 num_shards=2 -m``) plus their merge, each with a cold render cache;
    the merged benchmark must have the single build's content hash;
(b) eval throughput: items/s of ``robostress eval`` from the build folder vs from its export
    (``robostress export``): cold (the export is loaded into a fresh folder first) and warm (the
    loaded copy is reused after verification); warm trials alternate with build-folder trials and
    the min and median of the per-pair ratios are printed;
(c) memory: peak RSS of an eval from the export at 1x and 4x the items (bench/eval_memory.py's
    measurement; the load is inside the measured process).

    python bench/scale.py [--bench benchmarks/mini] [--scenes 2] [--size 64] [--pairs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing
sys.path.insert(0, str(ROOT / "bench"))

from eval_memory import peak_rss_kb  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
EVAL_CHILD = """
import json, sys, time
from pathlib import Path
from robostress.benchmark.dataset import resolve_benchmark_dir
from robostress.evaluate.evaluate import evaluate
bench, model, run, cache = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
t0 = time.perf_counter()
bench = resolve_benchmark_dir(Path(bench), Path(cache), Path(cache) / "vc")
t1 = time.perf_counter()
out = evaluate(bench, {"backend": model, "label": model}, Path(run), progress=False, report=False,
               batch_size=32, verify_cache=Path(cache) / "vc")
t2 = time.perf_counter()
print(json.dumps({"load_s": t1 - t0, "eval_s": t2 - t1, "items": len(out["predictions"])}))
"""


def robostress(*args: str, cwd: Path) -> None:
    """Run the CLI; stop with its stderr on failure."""
    r = subprocess.run([sys.executable, "-m", "robostress.cli.main", *args], env=ENV, cwd=cwd,
                       capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"robostress {' '.join(args)} failed:\n{r.stderr[-2000:]}")


def build_rates(tmp: Path, scenes: int, size: int) -> None:
    """(a): frames/s of one build process vs two shard processes plus merge, cold caches."""
    common = ["benchmark=tiny", f"benchmark.num_scenes={scenes}", f"benchmark.width={size}",
              f"benchmark.height={size}", "renderer=preview", "progress=false"]
    t0 = time.perf_counter()
    robostress("build", *common, f"cache_dir={tmp}/cache1", f"out_dir={tmp}/one", cwd=tmp)
    one = time.perf_counter() - t0
    t0 = time.perf_counter()
    robostress("build", *common, f"cache_dir={tmp}/cache2", "shard=0,1", "num_shards=2",
               f"out_dir={tmp}/s" + "${shard}", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "-m", cwd=tmp)
    shards = time.perf_counter() - t0
    robostress("merge", f"shards=[{tmp}/s0,{tmp}/s1]", f"out_dir={tmp}/merged", cwd=tmp)
    both = time.perf_counter() - t0
    m1, m2 = (json.loads((tmp / d / "manifest.json").read_text()) for d in ("one", "merged"))
    n = m1["counts"]["frames"]
    print(f"(a) build of {n} frames ({scenes} scenes, {size} px, renderer=preview, cold render caches; "
          f"{os.cpu_count()} CPUs)")
    print(f"    1 process: {one:7.1f} s  {n / one:6.2f} frames/s")
    print(f"    2 shards : {shards:7.1f} s  {n / shards:6.2f} frames/s  (+ merge: {both:.1f} s, {n / both:.2f} frames/s)")
    print(f"    ratio 2/1: {one / shards:.2f} (with merge {one / both:.2f}); merged hash "
          f"{'equals' if m1['content_hash'] == m2['content_hash'] else 'DIFFERS FROM'} the single build's")


def eval_once(bench: Path, model: str, tmp: Path, cache: Path, tag: str) -> dict[str, float]:
    run = tmp / f"run-{tag}"
    shutil.rmtree(run, ignore_errors=True)
    r = subprocess.run([sys.executable, "-c", EVAL_CHILD, str(bench), model, str(run), str(cache)], env=ENV,
                       cwd=tmp, capture_output=True, text=True, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def eval_rates(bench: Path, export: Path, tmp: Path, model: str, pairs: int) -> None:
    """(b): items/s from the build folder vs from the export (cold once, then warm pairs)."""
    cold = eval_once(export, model, tmp, tmp / "ds-cold", "cold")
    ratios, rows = [], []
    for k in range(pairs):
        b = eval_once(bench, model, tmp, tmp / "ds-build", f"b{k}")
        w = eval_once(export, model, tmp, tmp / "ds-cold", f"w{k}")
        rb, rw = b["items"] / (b["load_s"] + b["eval_s"]), w["items"] / (w["load_s"] + w["eval_s"])
        ratios.append(rw / rb)
        rows.append((rb, rw, w["load_s"]))
    n = cold["items"]
    rc = n / (cold["load_s"] + cold["eval_s"])
    rb = statistics.median(r[0] for r in rows)
    print(f"(b) eval of {n} items, model={model} (load + eval in one process, report off)")
    print(f"    build folder        : {rb:8.1f} items/s (median of {pairs})")
    print(f"    export, cold (load) : {rc:8.1f} items/s  (load {cold['load_s']:.2f} s of {cold['load_s'] + cold['eval_s']:.2f} s)")
    print(f"    export, warm (reuse): {statistics.median(r[1] for r in rows):8.1f} items/s  "
          f"(verify of the loaded copy {statistics.median(r[2] for r in rows):.2f} s)")
    print(f"    ratio export/build  : cold {rc / rb:.2f}; warm min {min(ratios):.2f}, median {statistics.median(ratios):.2f}")


def main() -> None:
    """Print (a), (b) and (c)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", type=Path, default=ROOT / "benchmarks" / "mini", help="a built benchmark for (b), (c)")
    ap.add_argument("--scenes", type=int, default=2, help="(a): scenes of the tiny build")
    ap.add_argument("--size", type=int, default=64, help="(a): image size in px")
    ap.add_argument("--pairs", type=int, default=3, help="(b): alternating build/export trials")
    ap.add_argument("--model", default="classical", help="(b), (c): weight-free model")
    ap.add_argument("--skip-build", action="store_true", help="skip (a)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        if not a.skip_build:
            build_rates(tmp, a.scenes, a.size)
        export = tmp / "export"
        t0 = time.perf_counter()
        robostress("export", f"benchmark_dir={a.bench.resolve()}", f"out_dir={export}", cwd=tmp)
        size = sum(p.stat().st_size for p in export.rglob("*") if p.is_file())
        print(f"    export of {a.bench}: {time.perf_counter() - t0:.1f} s, {size / 1e6:.1f} MB")
        eval_rates(a.bench.resolve(), export, tmp, a.model, a.pairs)
        total = sum(1 for _ in open(export / "records" / "items.jsonl"))
        lo, hi = peak_rss_kb(ROOT, export, a.model, total // 4), peak_rss_kb(ROOT, export, a.model, total)
        print(f"(c) peak RSS of eval from the export (load included), model={a.model}")
        print(f"    1x = {total // 4} items: {lo / 1024:.1f} MB; 4x = {total} items: {hi / 1024:.1f} MB; "
              f"ratio {hi / lo:.2f} (goal <= 1.2)")


if __name__ == "__main__":
    main()
