"""Read an exported benchmark (``robostress export``) back into a built benchmark folder.

Needs pyarrow only (no Mitsuba, no ``datasets``). Everything in an export is untrusted: the index
is size-bounded and typed, every file must be listed with its size and sha256, paths stay inside
their folders, Parquet cells are bounded and must hash to what the (content-hashed) frame records
say. The result is the original build byte for byte: ``content_hash`` is recomputed and must
equal the manifest's and the index's. It is written to a temporary folder and renamed into
place, so an interrupted or refused load leaves nothing half-made.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
from pathlib import Path
from typing import Any

from robostress.benchmark.load import Benchmark
from robostress.benchmark.manifest import content_hash, loads_strict, read_manifest
from robostress.benchmark.verify import HASHED, JSONL, file_sha256, verify_benchmark
from robostress.errors import DataError
from robostress.render.io import safe_join

log = logging.getLogger(__name__)
EXPORT_INDEX = "export.json"
KNOWN_VERSIONS = (1,)
MAX_INDEX_BYTES = 16 << 20
MAX_CELL_BYTES = 256 << 20  # one PNG
MAX_ROW_GROUP_BYTES = 2 << 30  # uncompressed, as the Parquet footer states it: no decompression bomb is read
MAX_FILES = 100_000
FRAME_FILES = ("image", "mask", "depth", "free")
SUBDIRS = {"image": "images/", "mask": "masks/", "depth": "depth/", "free": "free/"}
RECORDS = ("manifest.json",) + JSONL
_REL = re.compile(r"^(README\.md|records/(" + "|".join(re.escape(n) for n in RECORDS)
                  + r")|data/(items|frames)-\d{5}\.parquet)$")


def is_export(path: Path) -> bool:
    """Whether ``path`` looks like an export folder (has an index and no manifest of its own)."""
    p = Path(path)
    return (p / EXPORT_INDEX).is_file() and not (p / "manifest.json").exists()


def read_index(root: Path) -> dict[str, Any]:
    """The export index of ``root``, checked for type, version and file names (not yet hashes)."""
    p = Path(root) / EXPORT_INDEX
    try:
        if p.stat().st_size > MAX_INDEX_BYTES:
            raise DataError(f"{p} is larger than {MAX_INDEX_BYTES} bytes: not a robostress export index")
        idx = loads_strict(p.read_bytes())
    except OSError as e:
        raise DataError(f"no robostress export at {root}: cannot read {EXPORT_INDEX} ({e.strerror})") from None
    except (ValueError, RecursionError) as e:
        raise DataError(f"{p} is not valid JSON: {str(e)[:120]}") from None
    if not isinstance(idx, dict) or idx.get("format") != "robostress-hf-export":
        raise DataError(f"{p}: not a robostress export index (format is not 'robostress-hf-export')")
    v = idx.get("schema_version")
    if type(v) is not int or v not in KNOWN_VERSIONS:
        raise DataError(f"{p}: export schema_version {v!r} is not supported (this robostress reads "
                        f"{' or '.join(map(str, KNOWN_VERSIONS))})")
    files, h = idx.get("files"), idx.get("content_hash")
    if not isinstance(h, str) or not re.fullmatch(r"[0-9a-f]{64}", h):
        raise DataError(f"{p}: content_hash is missing or not a sha256")
    if not isinstance(files, dict) or not 0 < len(files) <= MAX_FILES:
        raise DataError(f"{p}: files must list 1..{MAX_FILES} files")
    for rel, meta in files.items():
        if not _REL.match(rel):
            raise DataError(f"{p}: file name {rel[:80]!r} is not one an export has")
        if not (isinstance(meta, dict) and isinstance(meta.get("sha256"), str)
                and type(meta.get("bytes")) is int and meta["bytes"] >= 0):
            raise DataError(f"{p}: {rel}: needs sha256 and bytes")
    return idx


def check_files(root: Path, idx: dict[str, Any]) -> None:
    """DataError unless every listed file is there with its size and sha256, and no shard is unlisted."""
    root = Path(root)
    for rel, meta in sorted(idx["files"].items()):
        path = safe_join(root, rel)
        if not path.is_file():
            raise DataError(f"export {root} is incomplete: {rel} is missing")
        if path.stat().st_size != meta["bytes"] or file_sha256(path) != meta["sha256"]:
            raise DataError(f"export {root} is damaged: {rel} differs from its sha256 in {EXPORT_INDEX}")
    extra = sorted(p.relative_to(root).as_posix() for p in (root / "data").glob("*.parquet"))
    extra = [r for r in extra if r not in idx["files"]]
    if extra:
        raise DataError(f"export {root}: {extra[0]} is not listed in {EXPORT_INDEX} (a foreign or stale shard)")


def _frame_shards(idx: dict[str, Any]) -> list[str]:
    return sorted(r for r in idx["files"] if r.startswith("data/frames-"))


def _write_frames(root: Path, tmp: Path, idx: dict[str, Any], bench: Benchmark) -> None:
    import pyarrow.parquet as pq

    frames, seen = bench.frames, set()
    for rel in _frame_shards(idx):
        try:
            pf = pq.ParquetFile(safe_join(root, rel))
        except Exception as e:  # pyarrow raises ArrowInvalid, OSError, ... on a foreign file
            raise DataError(f"export {root}: {rel} is not a readable Parquet file ({str(e)[:120]})") from None
        missing = [c for c in ("frame_id",) + FRAME_FILES if c not in pf.schema_arrow.names]
        if missing:
            raise DataError(f"export {root}: {rel} has no column {missing[0]!r} (not a robostress frames shard)")
        md = pf.metadata
        big = [g for g in range(md.num_row_groups) if md.row_group(g).total_byte_size > MAX_ROW_GROUP_BYTES]
        if big:
            raise DataError(f"export {root}: {rel}: row group {big[0]} would decompress to more than "
                            f"{MAX_ROW_GROUP_BYTES} bytes")
        for batch in pf.iter_batches(batch_size=8, columns=["frame_id", *FRAME_FILES]):
            for row in batch.to_pylist():
                fid = row["frame_id"]
                f = frames.get(fid) if isinstance(fid, str) else None
                if f is None or fid in seen:
                    what = "a second time" if fid in seen else "but frames.jsonl has no such frame"
                    raise DataError(f"export {root}: {rel} holds frame {str(fid)[:80]!r} {what}")
                seen.add(fid)
                for kind in FRAME_FILES:
                    _write_png(tmp, rel, f, kind, row[kind])
    if len(seen) != len(frames):
        lost = sorted(set(frames) - seen)[0]
        raise DataError(f"export {root} is incomplete: no shard holds frame {lost!r} "
                        f"({len(frames) - len(seen)} of {len(frames)} frames missing)")


def _write_png(tmp: Path, rel: str, frame: Any, kind: str, cell: Any) -> None:
    data = cell.get("bytes") if isinstance(cell, dict) else None
    if not isinstance(data, bytes) or len(data) > MAX_CELL_BYTES:
        raise DataError(f"{rel}: frame {frame.frame_id!r} has no {kind} PNG (or one over {MAX_CELL_BYTES} bytes)")
    if hashlib.sha256(data).hexdigest() != frame.hashes.get(kind):
        raise DataError(f"{rel}: the {kind} of frame {frame.frame_id!r} differs from its recorded sha256")
    target = getattr(frame, kind)
    if not target.startswith(SUBDIRS[kind]):
        raise DataError(f"frames.jsonl: {kind} path {target[:80]!r} of {frame.frame_id!r} is not under {SUBDIRS[kind]}")
    path = safe_join(tmp, target)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def materialize(export_dir: Path, dest: Path) -> Path:
    """Rebuild the benchmark of ``export_dir`` at ``dest`` (must not exist); returns ``dest``."""
    root, dest = Path(export_dir).resolve(), Path(dest)
    idx = read_index(root)
    check_files(root, idx)
    if not any(r.startswith("data/frames-") for r in idx["files"]) or "records/manifest.json" not in idx["files"]:
        raise DataError(f"export {root} is incomplete: it lists no frames shard or no records/manifest.json")
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        for name in RECORDS:
            if f"records/{name}" in idx["files"]:
                shutil.copyfile(root / "records" / name, tmp / name)
        bench = Benchmark(tmp)
        if bench.content_hash != idx["content_hash"]:
            raise DataError(f"export {root}: records/manifest.json has content_hash {bench.content_hash[:12]}, "
                            f"{EXPORT_INDEX} says {idx['content_hash'][:12]}")
        _write_frames(root, tmp, idx, bench)
        if content_hash(tmp, list(HASHED), list(bench.frames.values())) != bench.content_hash:
            raise DataError(f"export {root}: its records do not hash to content_hash {bench.content_hash[:12]}")
        try:
            os.rename(tmp, dest)
        except OSError:
            if not (dest / "manifest.json").is_file():  # not a concurrent load of the same export
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("export %s loaded into %s (%s)", root, dest, idx["content_hash"][:12])
    return dest


def resolve_benchmark_dir(path: Path, cache_dir: Path, verify_cache: Path | None = None) -> Path:
    """``path`` if it holds a built benchmark; for an export, its rebuilt folder under ``cache_dir``
    (``<name>-<hash16>``), reused while it still verifies, else (re)built from the export."""
    p = Path(path)
    if not is_export(p):
        return p
    idx = read_index(p)
    name = re.sub(r"[^A-Za-z0-9._-]", "_", str(idx.get("name") or "benchmark"))[:64].lstrip(".") or "benchmark"
    dest = Path(cache_dir) / f"{name}-{idx['content_hash'][:16]}"
    if (dest / "manifest.json").is_file():
        try:
            same = read_manifest(dest)["content_hash"] == idx["content_hash"]
            if same and verify_benchmark(dest, verify_cache).ok:
                return dest
        except DataError:
            pass
        log.warning("the loaded copy %s of export %s is damaged or stale: loading it again", dest, p)
        shutil.rmtree(dest)
    return materialize(p, dest)
