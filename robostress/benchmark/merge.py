"""Merge the folders of a sharded build into the benchmark one process would have written.

``robostress build shard=k num_shards=n`` builds scenes ``k, k+n, k+2n, ...`` (scene ``i`` goes
to shard ``i % n``) and writes their records scene by scene. A record depends only on its scene
(seeds and question draws come from the run seed, the scene id and the scene's index, never the
shard), so interleaving the shards' records scene by scene in index order gives the same JSONL
bytes as one process, the frame files are the same render-cache exports, and the manifest is
rebuilt from them: same counts, file hashes and ``content_hash``. Only ``build_seconds`` and
``render_stats`` (timings and cache hits, which differ between any two builds) are sums over the
shards.

Refused, each with one line: shards of different configs, seeds, renderers or versions; a missing
or duplicated shard; a shard whose build did not finish (no manifest) or whose files do not match
their hashes; an output folder that is not empty.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from robostress.benchmark.manifest import (
    content_hash,
    identity_hash,
    loads_strict,
    read_jsonl,
    read_manifest,
)
from robostress.benchmark.verify import verify_benchmark
from robostress.errors import ConfigError, DataError
from robostress.lock import RunLock
from robostress.render.io import safe_join, sha256, write_atomic

log = logging.getLogger(__name__)
HASHED = ("scenes.jsonl", "frames.jsonl", "items.jsonl")
JSONL: dict[str, Callable[[dict[str, Any]], str]] = {  # file -> the scene a record belongs to
    "scenes.jsonl": lambda r: str(r["scene_id"]),
    "frames.jsonl": lambda r: str(r["scene_id"]),
    "skipped.jsonl": lambda r: str(r["frame_id"]).split("/", 1)[0],
    "items.jsonl": lambda r: str(r["scene_id"]),
    "dropped.jsonl": lambda r: str(r["frame_id"]).split("/", 1)[0],
}
FRAME_FILES = ("image", "mask", "depth", "free")
VOLATILE = ("build_seconds", "render_stats")  # differ between any two builds of the same benchmark
SHARD_KEYS = ("shard", "num_shards")


@dataclass
class Shard:
    """One shard folder of a build."""

    root: Path
    manifest: dict[str, Any]
    scene_ids: list[str]

    @property
    def index(self) -> int:
        """Which shard this is (``config.shard``)."""
        return int(self.manifest["config"]["shard"])


def _identity(m: dict[str, Any]) -> dict[str, Any]:
    """What must agree between the shards of one build: everything but the shard and the outputs."""
    cfg = {k: v for k, v in (m.get("config") or {}).items() if k != "shard"}
    return {"schema_version": m.get("schema_version"), "name": m.get("name"), "config": cfg,
            "renderer": m.get("renderer"), "versions": {k: v for k, v in (m.get("versions") or {}).items()
                                                        if k != "prompt"}}


def _first_difference(a: Any, b: Any, prefix: str = "") -> str:
    """The first key where two JSON values differ, as ``key (a vs b)``."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                return _first_difference(a.get(k), b.get(k), f"{prefix}{k}.")
    return f"{prefix[:-1] or 'value'} ({json.dumps(a)[:60]} vs {json.dumps(b)[:60]})"


def _scene_index(scene_id: str) -> int:
    m = re.search(r"-(\d+)$", scene_id)
    if m is None:
        raise DataError(f"scene id {scene_id!r} does not end in its index; cannot place it in the merged order")
    return int(m.group(1))


def open_shard(root: Path, verify_cache: Path | None) -> Shard:
    """A finished, whole shard folder; DataError naming what is wrong otherwise."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"shard folder {root} does not exist")
    if not (root / "manifest.json").is_file():
        raise DataError(f"shard {root} is incomplete (no manifest.json: its build did not finish); "
                        "rerun the same `robostress build ... shard=K num_shards=N` to finish it")
    m = read_manifest(root)
    cfg = m.get("config")
    if not isinstance(cfg, dict) or not all(isinstance(cfg.get(k), int) for k in (*SHARD_KEYS, "num_scenes")):
        raise DataError(f"{root}/manifest.json: config lacks shard, num_shards or num_scenes")
    res = verify_benchmark(root, verify_cache)
    if not res.ok:
        raise DataError(f"shard {root} is damaged ({len(res.problems)} problems: {res.brief(3)}); "
                        f"`robostress verify benchmark_dir={root}` lists them; rebuild that shard")
    scenes = {str(r["scene_id"]) for r in read_jsonl(root / "scenes.jsonl")}
    scenes |= {str(r["frame_id"]).split("/", 1)[0] for r in read_jsonl(root / "skipped.jsonl", required=False)
               if str(r.get("frame_id", "")).endswith("/clean")}  # scenes that could not be laid out
    return Shard(root, m, sorted(scenes, key=_scene_index))


def check_shards(shards: Sequence[Shard]) -> int:
    """The number of shards, after checking they are the whole of one build; DataError otherwise."""
    first = shards[0]
    for s in shards[1:]:
        if _identity(s.manifest) != _identity(first.manifest):
            raise DataError(f"shards {first.root} and {s.root} are not of one build: they differ in "
                            f"{_first_difference(_identity(first.manifest), _identity(s.manifest))}")
    n, total = int(first.manifest["config"]["num_shards"]), int(first.manifest["config"]["num_scenes"])
    by_index: dict[int, Shard] = {}
    for s in shards:
        if s.index in by_index:
            raise DataError(f"shard {s.index} of {n} is given twice: {by_index[s.index].root} and {s.root}")
        by_index[s.index] = s
    missing = [k for k in range(n) if k not in by_index]
    if missing:
        raise DataError(f"shard {missing[0]} of {n} is missing ({len(shards)} of {n} shards given); build it "
                        f"with `robostress build ... shard={missing[0]} num_shards={n}` and merge all {n}")
    for s in shards:
        want = list(range(s.index, total, n))
        got = [_scene_index(i) for i in s.scene_ids]
        if got != want:
            raise DataError(f"shard {s.root} holds scenes {got[:5]}, not {want[:5]} "
                            f"(shard {s.index} of {n}, {total} scenes)")
    return n


def _grouped_lines(path: Path, key: Callable[[dict[str, Any]], str], scene_ids: list[str]) -> dict[str, list[bytes]]:
    """Raw lines of a shard's JSONL file grouped by scene (DataError if a scene's lines are not together,
    in scene order, or name a scene the shard does not hold)."""
    order = {sid: i for i, sid in enumerate(scene_ids)}
    groups: dict[str, list[bytes]] = {sid: [] for sid in scene_ids}
    last = -1
    if not path.exists():
        return groups
    with open(path, "rb") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                sid = key(loads_strict(line))
            except (ValueError, KeyError, TypeError, AttributeError) as e:
                raise DataError(f"{path}:{n}: cannot tell its scene ({str(e)[:80]})") from None
            if sid not in order or order[sid] < last:
                raise DataError(f"{path}:{n}: scene {sid!r} out of place; the shard was not written by "
                                "`robostress build` (rebuild it)")
            last = order[sid]
            groups[sid].append(line.rstrip(b"\n"))
    return groups


def _manifest(base: dict[str, Any], shards: Sequence[Shard], out: Path, frames: list[Any],
              first_prompt: str | None) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    by_stress: Counter[str] = Counter()
    stats: Counter[str] = Counter()
    for s in shards:
        counts.update({k: v for k, v in s.manifest["counts"].items() if isinstance(v, int)})
        by_stress.update(s.manifest["counts"].get("frames_by_stress") or {})
        stats.update(s.manifest.get("render_stats") or {})
    m = dict(base)
    m["config"] = {**base["config"], "shard": 0, "num_shards": 1}
    m["versions"] = {**base["versions"], "prompt": first_prompt}
    m["assets"] = next((s.manifest["assets"] for s in shards if s.manifest.get("assets")), base.get("assets", {}))
    m["counts"] = {**dict(counts), "frames_by_stress": dict(sorted(by_stress.items()))}
    m["content_hash"] = content_hash(out, list(HASHED), frames)
    m["identity"] = identity_hash(out, frames)
    m["files"] = {n: sha256((out / n).read_bytes()) for n in JSONL}
    m["build_seconds"] = round(sum(float(s.manifest.get("build_seconds") or 0) for s in shards), 2)
    m["render_stats"] = dict(stats)
    return m


def merge_shards(shard_dirs: Sequence[Path], out_dir: Path, verify_cache: Path | None = None) -> dict[str, Any]:
    """Merge the shard folders of one build into ``out_dir``; returns the merged manifest.

    Raises:
        ConfigError: no shard folders, or ``out_dir`` is not empty (or is one of the shards).
        DataError: the shards are not the whole of one finished build (see the module docstring).
    """
    if not shard_dirs:
        raise ConfigError("shards is empty: give the shard folders, e.g. shards=[benchmarks/s0,benchmarks/s1]")
    out = Path(out_dir)
    if any(out.resolve() == Path(d).resolve() for d in shard_dirs):
        raise ConfigError(f"out_dir={out} is one of the shards; write the merge to a new folder")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"out_dir={out} is not empty; give a new folder (or delete it to merge again)")
    shards = sorted((open_shard(Path(d), verify_cache) for d in shard_dirs), key=lambda s: s.index)
    n = check_shards(shards)
    total = int(shards[0].manifest["config"]["num_scenes"])
    out.mkdir(parents=True, exist_ok=True)
    with RunLock(out):
        frames: list[Any] = []
        first_prompt = None
        for name, key in JSONL.items():
            groups = [_grouped_lines(s.root / name, key, s.scene_ids) for s in shards]
            lines = [ln for i in range(total) for ln in groups[i % n][shards[i % n].scene_ids[i // n]]]
            write_atomic(out / name, (b"\n".join(lines) + (b"\n" if lines else b"")))
            if name == "items.jsonl" and lines:
                first_prompt = loads_strict(lines[0]).get("prompt_version")
        for s in shards:
            for rec in read_jsonl(s.root / "frames.jsonl"):
                frames.append(SimpleNamespace(frame_id=rec["frame_id"], hashes=rec["hashes"], record=rec))
                for f in FRAME_FILES:
                    src, dst = safe_join(s.root, rec[f]), safe_join(out, rec[f])
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(src, dst)
        manifest = _manifest(shards[0].manifest, shards, out, frames, first_prompt)
        write_atomic(out / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True).encode())
    log.info("merged %d shards (%d scenes, %d frames, %d items) into %s; hash %s", n, total,
             manifest["counts"]["frames"], manifest["counts"]["items"], out, manifest["content_hash"][:12])
    return manifest
