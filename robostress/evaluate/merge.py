"""Merge the run folders of a sharded evaluation into the run one process would have written.

``robostress eval ... shard=k num_shards=n`` answers ``shard_items(items, k, n)`` (the k-th of n
contiguous blocks of the items in benchmark order) into its own run folder, whose fingerprint
names the shard. The merge checks that the folders are the whole of one evaluation (same
benchmark, model, agent, config, prompts and scorer; every shard once; every shard's items
answered, none more), then writes a run folder with the fingerprint of the
unsharded run (shard 0 of 1, so ``robostress eval`` with the same model resumes it with nothing
left to do), the predictions in benchmark item order (the order one process appends them) and
the summary and report of those predictions.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from robostress.benchmark.load import Benchmark
from robostress.errors import ConfigError, DataError
from robostress.evaluate.evaluate import write_run_report
from robostress.evaluate.runner import RUN_SCHEMA_VERSION, fingerprint, read_run_meta, shard_items
from robostress.lock import RunLock
from robostress.metrics.runs import load_predictions
from robostress.render.io import write_atomic
from robostress.scoring.prediction import Prediction

log = logging.getLogger(__name__)
SAME = ("label", "model", "config", "scorer", "prediction_schema_version")  # run.json keys shards share


@dataclass
class ShardRun:
    """One shard's run folder."""

    root: Path
    meta: dict[str, Any]
    preds: list[Prediction]

    @property
    def shard(self) -> tuple[int, int]:
        """(shard, num_shards) of the run."""
        k, n = self.meta["shard"]
        return int(k), int(n)


def open_run(root: Path) -> ShardRun:
    """A shard's run folder; DataError if it is not one."""
    root = Path(root)
    if not (root / "run.json").is_file():
        raise DataError(f"{root} is not a run folder (no run.json); give the folders of "
                        "`robostress eval ... shard=K num_shards=N`")
    meta = read_run_meta(root / "run.json")
    sh = meta.get("shard")
    if not (isinstance(sh, list) and len(sh) == 2 and all(type(x) is int for x in sh) and 0 <= sh[0] < sh[1]):
        raise DataError(f"{root}/run.json: shard {sh!r} is not [shard, num_shards]")
    bench = meta.get("benchmark")
    if not isinstance(bench, dict) or not isinstance(bench.get("content_hash"), str):
        raise DataError(f"{root}/run.json: benchmark.content_hash is missing")
    return ShardRun(root, meta, load_predictions(root / "predictions.jsonl"))


def _benchmark(runs: Sequence[ShardRun], benchmark_dir: Path | None) -> Benchmark:
    want = runs[0].meta["benchmark"]["content_hash"]
    path = benchmark_dir or Path(str(runs[0].meta["benchmark"].get("path", "")))
    bench = Benchmark(path)
    if bench.content_hash != want:
        raise DataError(f"benchmark {path} has hash {bench.content_hash[:12]}, the runs were made on "
                        f"{want[:12]}; give benchmark_dir= the benchmark they evaluated")
    return bench


def check_runs(runs: Sequence[ShardRun], bench: Benchmark) -> tuple[int, str | None]:
    """(num_shards, prompt version) after checking the runs are the whole of one evaluation."""
    first = runs[0]
    prompt = bench.items[0].prompt_version if bench.items else None
    for r in runs:
        if r.meta["benchmark"]["content_hash"] != first.meta["benchmark"]["content_hash"]:
            raise DataError(f"runs {first.root} and {r.root} evaluated different benchmarks "
                            f"({first.meta['benchmark']['content_hash'][:12]} vs {r.meta['benchmark']['content_hash'][:12]})")
        diff = next((k for k in SAME if r.meta.get(k) != first.meta.get(k)), None)
        if diff:
            raise DataError(f"runs {first.root} and {r.root} are not of one evaluation (mixed fingerprints: "
                            f"{r.meta.get('fingerprint')} vs {first.meta.get('fingerprint')}; they differ in {diff})")
        own = fingerprint(r.meta["benchmark"]["content_hash"], r.meta["model"], prompt, r.shard)
        if r.meta.get("fingerprint") != own:
            raise DataError(f"{r.root}/run.json: fingerprint {r.meta.get('fingerprint')} is not that of its "
                            f"benchmark, model, prompts, scorer and shard ({own}); it was edited or made by "
                            "another robostress version")
    n = first.shard[1]
    seen: dict[int, ShardRun] = {}
    for r in runs:
        if r.shard[1] != n:
            raise DataError(f"runs {first.root} and {r.root} split the items differently "
                            f"(num_shards {n} vs {r.shard[1]})")
        if r.shard[0] in seen:
            raise DataError(f"shard {r.shard[0]} of {n} is given twice: {seen[r.shard[0]].root} and {r.root}")
        seen[r.shard[0]] = r
    missing = [k for k in range(n) if k not in seen]
    if missing:
        raise DataError(f"shard {missing[0]} of {n} is missing ({len(runs)} of {n} run folders given); run "
                        f"`robostress eval ... shard={missing[0]} num_shards={n}` and merge all {n}")
    return n, prompt


def _check_complete(r: ShardRun, bench: Benchmark, n: int) -> None:
    want = {i.item_id for i in shard_items(bench.items, r.shard[0], n)}
    got = {p.item_id for p in r.preds}
    if got - want:
        extra = sorted(got - want)[0]
        raise DataError(f"{r.root}: item {extra!r} does not belong to shard {r.shard[0]} of {n}")
    if want - got:
        raise DataError(f"shard run {r.root} is incomplete: {len(want - got)} of {len(want)} items unanswered "
                        f"(rerun the same `robostress eval ... shard={r.shard[0]} num_shards={n}` to finish it)")


def merge_runs(run_dirs: Sequence[Path], out_dir: Path, *, benchmark_dir: Path | None = None,
               reference_run: Path | None = None, report: bool = True) -> dict[str, Any]:
    """Merge shard run folders into ``out_dir``; returns ``{"run_dir", "predictions", "summary"?, "files"?}``.

    Raises:
        ConfigError: no run folders, or ``out_dir`` is not empty (or is one of them).
        DataError: the folders are not the whole of one finished evaluation.
    """
    if not run_dirs:
        raise ConfigError("runs is empty: give the shard run folders, e.g. runs=[runs/mini/oracle-s0,runs/mini/oracle-s1]")
    out = Path(out_dir)
    if any(out.resolve() == Path(d).resolve() for d in run_dirs):
        raise ConfigError(f"out_dir={out} is one of the runs; write the merge to a new folder")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"out_dir={out} is not empty; give a new folder (or delete it to merge again)")
    runs = [open_run(Path(d)) for d in run_dirs]
    bench = _benchmark(runs, benchmark_dir)
    n, prompt = check_runs(runs, bench)
    for r in sorted(runs, key=lambda r: r.shard):
        _check_complete(r, bench, n)
    by_id = {p.item_id: p for r in runs for p in r.preds}
    preds = [by_id[i.item_id] for i in bench.items]  # the order one process appends them
    first = min(runs, key=lambda r: r.shard)
    meta = {**first.meta, "schema_version": RUN_SCHEMA_VERSION, "shard": [0, 1],
            "fingerprint": fingerprint(bench.content_hash, first.meta["model"], prompt, (0, 1)),
            "benchmark": {**first.meta["benchmark"], "path": str(bench.root)},
            "merged_from": [{"run_dir": str(r.root), "shard": list(r.shard), "fingerprint": r.meta["fingerprint"],
                             "git_revision": r.meta.get("git_revision")} for r in sorted(runs, key=lambda r: r.shard)]}
    out.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"run_dir": str(out), "predictions": preds}
    with RunLock(out):
        write_atomic(out / "run.json", json.dumps(meta, indent=2, sort_keys=True, default=str).encode())
        blob = "".join(json.dumps(p.model_dump(mode="json"), sort_keys=True) + "\n" for p in preds)
        write_atomic(out / "predictions.jsonl", blob.encode())
        if report:
            result.update(write_run_report(bench, preds, out, str(meta.get("label", "model")), reference_run))
    failed = sum(p.error is not None for p in preds)
    log.info("merged %d shard runs (%d predictions%s) into %s; fingerprint %s", n, len(preds),
             f", {failed} failed: rerun with retry_failed=true" if failed else "", out, meta["fingerprint"])
    return result
