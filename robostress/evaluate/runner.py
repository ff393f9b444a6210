"""The resumable evaluation runner: items -> model (batch-first) -> scored predictions.jsonl.

A run directory holds ``run.json`` (fingerprint, versions, config) and ``predictions.jsonl``
(one line per item, appended batch by batch with a single write each). Restarting with the
same fingerprint skips answered items; a different fingerprint refuses to mix. Ctrl-C keeps
every finished batch. With ``retry_failed`` the items whose answer was a backend error (a server
outage, a timeout) are asked again; every other answer is kept. ``reuse`` gives ready predictions
for items whose request is provably the same as in another run (``robostress.evaluate.reuse``):
they are written without asking the model, in item order with the answered ones.

Memory stays flat in the number of items: masks are decoded once per batch and dropped after it
(items are stored frame by frame, so a batch shares a few frames), never kept for the whole run.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import json
import os
import platform
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from tqdm import tqdm

from robostress.benchmark.load import Benchmark
from robostress.benchmark.manifest import check_version, loads_strict
from robostress.errors import DataError
from robostress.lock import RunLock
from robostress.metrics.runs import load_predictions
from robostress.models.base import Model, Request, Response
from robostress.questions.item import LETTERS, Item
from robostress.render.io import write_atomic
from robostress.scoring import SCORER_VERSION, Scorer, score
from robostress.scoring.prediction import PREDICTION_SCHEMA_VERSION, Prediction

RUN_SCHEMA_VERSION = 1
MAX_RAW_CHARS = 8192  # model output kept per prediction (untrusted, bounded)
T = TypeVar("T")
SHARD_SPLIT = "blocks-v1"  # how items are split into shards; in sharded fingerprints


def shard_items(items: Sequence[T], shard: int, num_shards: int) -> list[T]:
    """Shard ``shard`` of ``num_shards``: a contiguous block of the items in benchmark order.

    Block sizes differ by at most one item. Items are stored scene by scene and frame by frame,
    so a block keeps a frame's items together (at most ``num_shards - 1`` frames straddle two
    shards): a batch decodes few masks and an engine's image cache sees each image in one shard.
    """
    n = len(items)
    return list(items[shard * n // num_shards:(shard + 1) * n // num_shards])


def fingerprint(bench_hash: str, model_desc: dict[str, Any], prompt_version: str | None,
                shard: tuple[int, int] = (0, 1)) -> str:
    """What makes two runs comparable: benchmark, model (and agent), prompts, scorer, shard."""
    key: dict[str, Any] = {"benchmark": bench_hash, "model": model_desc, "prompt": prompt_version,
                           "scorer": SCORER_VERSION, "shard": list(shard)}
    if shard[1] > 1:  # a shard made by another split holds other items: never resume or merge it
        key["split"] = SHARD_SPLIT
    blob = json.dumps(key, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def versions() -> dict[str, str]:
    """Versions of Python and the packages that can change results."""
    out = {"python": platform.python_version()}
    for pkg in ("robostress", "numpy", "mitsuba", "torch", "transformers", "vllm", "opencv-python-headless"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def git_revision() -> str | None:
    """The git commit of the robostress checkout, if it is one."""
    try:
        r = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                           cwd=Path(__file__).resolve().parent)
        return r.stdout.strip() or None if r.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


@dataclass
class RunResult:
    """What a run produced."""

    run_dir: Path
    predictions: list[Prediction]
    answered_now: int
    resumed: int
    reused: int = 0  # of answered_now: copied from another run (``reuse``), no model call


def request_for(item: Item, bench: Benchmark, max_tokens: int = 64) -> Request:
    """The model request of an item (multiple choice is constrained to its letters)."""
    choices = tuple(LETTERS[: len(item.options)]) if item.format == "mc" else None
    return Request(id=item.item_id, prompt=item.prompt, images=(str(bench.path(item.image)),),
                   choices=choices, max_tokens=max_tokens, item=item)


def read_run_meta(path: Path) -> dict[str, Any]:
    """``run.json`` of a run folder; DataError if corrupt or of an unknown schema_version."""
    try:
        meta = loads_strict(path.read_bytes())
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror}") from None
    except (ValueError, RecursionError) as e:
        raise DataError(f"{path} is corrupt ({str(e)[:120]}); move it away to start afresh") from None
    if not isinstance(meta, dict):
        raise DataError(f"{path} is corrupt (not a JSON object); move it away to start afresh")
    check_version(str(path), meta, (RUN_SCHEMA_VERSION,))
    return meta


def append_whole(fd: int, path: Path, blob: bytes, kept: int) -> None:
    """Append ``blob`` (whole lines) to the file open as ``fd`` and fsync it; on a write error the
    file is cut back to where it was, so no torn line is left, and DataError says what happened."""
    size = os.lseek(fd, 0, os.SEEK_END)
    try:
        view = memoryview(blob)
        while view:  # os.write may write part of the data before the disk fills
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except OSError as e:
        try:
            os.ftruncate(fd, size)  # shrinking needs no free space
        except OSError:
            pass  # the reader drops a torn last line on resume
        raise DataError(f"cannot write {path}: {e.strerror or e}; the {kept} predictions written before "
                        "are kept: free space (or make the folder writable) and rerun to resume") from None


class Runner:
    """Evaluates one model (or agent) on one benchmark into one run directory.

    ``scorer`` parses and scores each reply: robostress's rules by default; ``robostress rsb``
    passes RoboStressBench's (``robostress.interop.rsb_eval.rsb_scorer``).
    """

    def __init__(self, bench: Benchmark, model: Model, run_dir: Path, *, label: str,
                 batch_size: int = 16, max_tokens: int = 64, shard: int = 0, num_shards: int = 1,
                 limit: int | None = None, config: dict[str, Any] | None = None,
                 retry_failed: bool = False, scorer: Scorer = score) -> None:
        self.bench, self.model, self.run_dir, self.scorer = bench, model, Path(run_dir), scorer
        # a GPU engine (vllm_offline) is fed its own, larger batches: 16 at a time leaves it idle
        self.label, self.max_tokens = label, max_tokens
        self.batch_size = max(1, int(batch_size), int(getattr(model, "batch_hint", None) or 1))
        self.shard, self.num_shards, self.limit = shard, num_shards, limit
        self.config, self.retry_failed = config or {}, bool(retry_failed)
        items = shard_items(bench.items, shard, num_shards)
        self.items = items[:limit] if limit else items
        self.prompt_version = self.items[0].prompt_version if self.items else None
        self.fingerprint = fingerprint(bench.content_hash, model.describe(), self.prompt_version,
                                       (shard, num_shards))
        self.reuse: dict[str, Prediction] = {}  # ready answers by item id (set by ``evaluate``)
        self._masks: dict[str, np.ndarray] = {}  # this batch's decoded masks only

    def _prepare(self) -> list[Prediction]:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        meta_path = self.run_dir / "run.json"
        if meta_path.exists():
            old = read_run_meta(meta_path)
            if old.get("fingerprint") != self.fingerprint:
                raise DataError(
                    f"{self.run_dir} holds a different run (fingerprint {old.get('fingerprint')}, "
                    f"model {old.get('label')!r}); this run is {self.fingerprint} ({self.label!r}). "
                    "Use another run_dir, or delete that folder to start over.")
        done = load_predictions(self.run_dir / "predictions.jsonl")  # refused before run.json is touched
        meta = {"schema_version": RUN_SCHEMA_VERSION, "fingerprint": self.fingerprint,
                "label": self.label, "benchmark": {"path": str(self.bench.root),
                                                   "content_hash": self.bench.content_hash,
                                                   "identity": self.bench.identity,
                                                   "name": self.bench.manifest.get("name")},
                "model": self.model.describe(), "config": self.config, "versions": versions(),
                "git_revision": git_revision(), "shard": [self.shard, self.num_shards],
                "prediction_schema_version": PREDICTION_SCHEMA_VERSION, "scorer": SCORER_VERSION}
        write_atomic(meta_path, json.dumps(meta, indent=2, sort_keys=True, default=str).encode())
        if self.retry_failed and any(p.error is not None for p in done):
            done = self._drop_failed(done)
        return done

    def _drop_failed(self, done: list[Prediction]) -> list[Prediction]:
        """Rewrite predictions.jsonl without the failed answers (atomically); they are asked again.

        A run killed after this rewrite simply lacks those items, which any rerun answers."""
        kept = [p for p in done if p.error is None]
        blob = "".join(json.dumps(p.model_dump(mode="json"), sort_keys=True) + "\n" for p in kept)
        write_atomic(self.run_dir / "predictions.jsonl", blob.encode())
        return kept

    def _mask(self, rel: str) -> np.ndarray:
        if rel not in self._masks:
            self._masks[rel] = self.bench.mask(rel)
        return self._masks[rel]

    def predict(self, item: Item, resp: Response) -> Prediction:
        """Score one response into a Prediction (a backend error scores 0 with its reason)."""
        raw = (resp.text or "")[:MAX_RAW_CHARS]
        try:
            s = self.scorer(item, raw, self._mask)
        except DataError as e:  # a damaged benchmark evaluated with allow_damaged: this item fails
            resp = Response(text=resp.text, latency_s=resp.latency_s, error=f"ground truth unreadable: {e}")
            s = self.scorer(item, "", lambda rel: np.zeros((1, 1), np.uint16))
        return Prediction.from_answer(item, raw, s, model=self.label, error=resp.error, latency_s=resp.latency_s,
                                      prompt_tokens=resp.prompt_tokens, completion_tokens=resp.completion_tokens,
                                      agent_trace=resp.extra.get("agent_trace"))

    def run(self, progress: bool = True) -> RunResult:
        """Answer every item not yet answered; returns all predictions of the run.

        The run folder is locked while this runs (a second writer is refused). Each batch is one
        append; a failed append (disk full, folder turned read-only) is cut back to the last whole
        line and stops the run with a DataError, so a rerun resumes from the finished batches.
        """
        with RunLock(self.run_dir):
            done = self._prepare()
            seen = {p.item_id for p in done}
            todo = [i for i in self.items if i.item_id not in seen]
            path = self.run_dir / "predictions.jsonl"
            bar = tqdm(total=len(self.items), initial=len(self.items) - len(todo), unit="item",
                       desc=f"eval {self.label}", disable=not progress)
            new: list[Prediction] = []
            reused = 0
            try:
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            except OSError as e:
                raise DataError(f"cannot write {path}: {e.strerror}") from None
            try:
                for batch in self._batches(todo):
                    preds = self._answer(batch)
                    reused += sum(i.item_id in self.reuse for i in batch)
                    self._masks.clear()  # flat memory: a batch's masks are not needed after it
                    blob = "".join(json.dumps(p.model_dump(mode="json"), sort_keys=True) + "\n" for p in preds)
                    append_whole(fd, path, blob.encode(), kept=len(done) + len(new))
                    new += preds
                    bar.update(len(batch))
            finally:
                os.close(fd)
                bar.close()
        return RunResult(self.run_dir, done + new, len(new), len(done), reused)

    def _batches(self, todo: Sequence[Item]) -> Iterator[list[Item]]:
        """Consecutive items holding ``batch_size`` items to ask (reused items ride along), so the
        model gets full batches and the file keeps item order."""
        batch: list[Item] = []
        asked = 0
        for item in todo:
            batch.append(item)
            asked += item.item_id not in self.reuse
            if asked == self.batch_size:
                yield batch
                batch, asked = [], 0
        if batch:
            yield batch

    def _answer(self, batch: Sequence[Item]) -> list[Prediction]:
        ask = [i for i in batch if i.item_id not in self.reuse]
        reqs = [request_for(i, self.bench, self.max_tokens) for i in ask]
        t = time.perf_counter()
        resps = self.model.generate(reqs) if reqs else []
        if len(resps) != len(reqs):
            raise DataError(f"model {self.label!r} returned {len(resps)} answers for {len(reqs)} requests")
        for r in resps:
            if not r.latency_s:
                r.latency_s = (time.perf_counter() - t) / len(reqs)
        answers = {i.item_id: self.predict(i, r) for i, r in zip(ask, resps, strict=True)}
        return [answers[i.item_id] if i.item_id in answers else self.reuse[i.item_id] for i in batch]
