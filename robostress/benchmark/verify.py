"""Verify a built benchmark against its own hashes before anything is measured on it.

Checks, in order: the manifest (readable, known schema version); each JSONL file against the
SHA-256 the manifest records for it (``files``, written since this check exists); every record
(schema version, type, unique ids); the content hash over records and frame hashes, and the
identity over plans, items, truth and masks; every frame file (image, mask, depth, free) against the hash its frame record holds; items pointing
at frames that exist and at those frames' images; the counts the manifest states.

Hashing a large benchmark every time would be slow, so a file's hash is remembered by its size
and modification time in a small JSON cache outside the benchmark (a published benchmark may be
read-only); ``full=True`` ignores the cache. The cache is a convenience: a file edited with its
size and mtime restored escapes it, ``full=True`` does not.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robostress.benchmark.load import Benchmark
from robostress.benchmark.manifest import content_hash, identity_hash, loads_strict
from robostress.errors import DataError
from robostress.render.io import safe_join, write_atomic

log = logging.getLogger(__name__)
JSONL = ("scenes.jsonl", "frames.jsonl", "items.jsonl", "skipped.jsonl", "dropped.jsonl")
HASHED = ("scenes.jsonl", "frames.jsonl", "items.jsonl")  # the records in the content hash
FRAME_FILES = ("image", "mask", "depth", "free")
CACHE_VERSION = 1


def default_cache_dir() -> Path:
    """``$ROBOSTRESS_CACHE/verify``, default ``~/.cache/robostress/verify``."""
    base = os.environ.get("ROBOSTRESS_CACHE") or str(Path.home() / ".cache" / "robostress")
    return Path(base).expanduser() / "verify"


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a benchmark: the file (relative to its root) and what is wrong."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass
class VerifyResult:
    """What ``verify_benchmark`` found."""

    root: Path
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    hashed: int = 0
    cached: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the benchmark is whole."""
        return not self.problems

    def brief(self, n: int = 5) -> str:
        """The first ``n`` problems on one line."""
        more = f"; and {len(self.problems) - n} more" if len(self.problems) > n else ""
        return "; ".join(str(p) for p in self.problems[:n]) + more


class HashCache:
    """SHA-256 of files by (size, mtime_ns), stored as JSON in ``cache_dir`` per benchmark root."""

    def __init__(self, root: Path, cache_dir: Path | None, full: bool) -> None:
        self.root, self.full = root, full
        key = hashlib.sha256(str(root).encode()).hexdigest()[:16]
        self.path = Path(cache_dir) / f"{key}.json" if cache_dir is not None else None
        self.entries: dict[str, list[Any]] = {} if full else self._load()
        self.hashed = self.cached = 0

    def _load(self) -> dict[str, list[Any]]:
        try:
            data = loads_strict(self.path.read_bytes()) if self.path else None
        except (OSError, ValueError, RecursionError):
            return {}
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION or data.get("root") != str(self.root):
            return {}
        files = data.get("files")
        return files if isinstance(files, dict) else {}

    def sha256(self, rel: str, path: Path) -> str:
        """The file's hash, from the cache when its size and mtime are unchanged."""
        st = path.stat()
        hit = self.entries.get(rel)
        if isinstance(hit, list) and len(hit) == 3 and hit[:2] == [st.st_size, st.st_mtime_ns]:
            self.cached += 1
            return str(hit[2])
        digest = file_sha256(path)
        self.entries[rel] = [st.st_size, st.st_mtime_ns, digest]
        self.hashed += 1
        return digest

    def save(self) -> None:
        """Write the cache (a failure only costs speed next time, so it is a warning)."""
        if self.path is None or not self.hashed:
            return
        blob = {"version": CACHE_VERSION, "root": str(self.root), "files": self.entries}
        try:
            write_atomic(self.path, json.dumps(blob, sort_keys=True).encode())
        except DataError as e:
            log.warning("verify: hash cache not saved (%s)", e)


def _check_file(bench: Benchmark, cache: HashCache, rel: str, want: str | None) -> Problem | None:
    try:
        path = safe_join(bench.root, rel)
    except DataError:
        return Problem(rel, "path escapes the benchmark folder")
    if not path.is_file():
        return Problem(rel, "missing")
    try:
        got = cache.sha256(rel, path)
    except OSError as e:
        return Problem(rel, f"unreadable ({e.strerror})")
    if want is None:
        return Problem(rel, "no hash recorded for it")
    if got != want:
        return Problem(rel, "content differs from its recorded sha256 (changed, replaced or truncated)")
    return None


def _records(bench: Benchmark, out: list[Problem]) -> bool:
    """Parse scenes, frames and items; False (with a problem) if any cannot be read."""
    ok = True
    for name, attr in (("scenes.jsonl", "scenes"), ("frames.jsonl", "frames"), ("items.jsonl", "items")):
        try:
            getattr(bench, attr)
        except DataError as e:
            msg, prefix = str(e), f"{bench.root / name}:"
            out.append(Problem(name, "line " + msg[len(prefix):] if msg.startswith(prefix) else msg))
            ok = False
    return ok


def _links(bench: Benchmark) -> Iterator[Problem]:
    """Items that point at frames or twins that do not exist, and counts that disagree."""
    frames, items = bench.frames, bench.items
    ids = {i.item_id for i in items}
    for it in items:
        f = frames.get(it.frame_id)
        if f is None:
            yield Problem("items.jsonl", f"item {it.item_id!r} points at a missing frame {it.frame_id!r}")
        elif it.image != f.image:
            yield Problem("items.jsonl", f"item {it.item_id!r} shows {it.image!r}, not its frame's image")
        if it.clean_item_id not in ids:
            yield Problem("items.jsonl", f"item {it.item_id!r} points at a missing clean twin {it.clean_item_id!r}")
    for f in frames.values():
        if f.clean_frame_id not in frames:
            yield Problem("frames.jsonl", f"frame {f.frame_id!r} points at a missing clean twin")
    counts = bench.manifest.get("counts") or {}
    for key, n in (("scenes", len(bench.scenes)), ("frames", len(frames)), ("items", len(items))):
        if key in counts and counts[key] != n:
            yield Problem(f"{key}.jsonl", f"holds {n} records; the manifest says {counts[key]!r}")


def verify_benchmark(bench: Benchmark | Path | str, cache_dir: Path | None = None, *,
                     full: bool = False) -> VerifyResult:
    """Check a benchmark against its manifest and frame hashes (see the module docstring).

    Args:
        bench: a Benchmark or its folder (DataError if its manifest cannot be read: then nothing
            else can be checked).
        cache_dir: where the size+mtime hash cache lives (default ``default_cache_dir()``).
        full: hash every file, ignoring the cache.
    """
    t0 = time.perf_counter()
    bench = bench if isinstance(bench, Benchmark) else Benchmark(bench)
    res = VerifyResult(bench.root)
    cache = HashCache(bench.root, default_cache_dir() if cache_dir is None else cache_dir, full)
    recorded = bench.manifest.get("files")
    recorded = recorded if isinstance(recorded, dict) else {}
    for name in JSONL:
        if name in recorded:
            res.files += 1
            if p := _check_file(bench, cache, name, str(recorded[name])):
                res.problems.append(p)
    if _records(bench, res.problems):
        frames = list(bench.frames.values())
        try:
            whole = content_hash(bench.root, list(HASHED), frames)
        except OSError as e:
            whole = f"unreadable: {e.strerror}"
        content_ok, identity_ok = whole == bench.content_hash, True
        if "identity" in bench.manifest:
            try:
                identity_ok = identity_hash(bench.root, frames) == bench.identity
            except OSError:
                identity_ok = False
        # one problem for both: a changed record breaks both, and its specific cause should stay in view
        stale = [] if content_ok else ["content_hash does not match the records and frame hashes"]
        stale += [] if identity_ok else ["identity does not match the plans, items, truth and masks"]
        if stale:
            res.problems.append(Problem("manifest.json", "; ".join(stale) + " (a record was changed)"))
        for f in frames:
            for name in FRAME_FILES:
                res.files += 1
                if p := _check_file(bench, cache, getattr(f, name), f.hashes.get(name)):
                    res.problems.append(p)
        res.problems += list(_links(bench))
    cache.save()
    res.hashed, res.cached, res.seconds = cache.hashed, cache.cached, round(time.perf_counter() - t0, 3)
    return res


def require_whole(bench: Benchmark, cache_dir: Path | None = None, allow_damaged: bool = False) -> VerifyResult:
    """Verify ``bench``; DataError listing the bad files unless it is whole or ``allow_damaged``."""
    res = verify_benchmark(bench, cache_dir)
    if not res.ok and not allow_damaged:
        raise DataError(f"benchmark {bench.root} is damaged ({len(res.problems)} problems: {res.brief()}); "
                        f"`robostress verify benchmark_dir={bench.root}` lists them all; pass "
                        "allow_damaged=true to evaluate it anyway (the report will say so)")
    if not res.ok:
        log.warning("evaluating a damaged benchmark (%d problems: %s)", len(res.problems), res.brief())
    return res
