"""Manifest, JSONL files and the benchmark's two hashes: ``identity`` (what it asks and what is
true: plans, items, truth, masks; the same on every machine) and ``content_hash`` (those and
every pixel: the same only where the renderer's float arithmetic is; docs/integrity.md)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from robostress.errors import DataError
from robostress.render.io import write_atomic

MANIFEST_SCHEMA_VERSION = 1
SIDE_SCHEMA_VERSION = 1  # records of skipped.jsonl and dropped.jsonl (absent in builds before it was written)
MAX_LINE_BYTES = 1 << 20  # a single JSONL record larger than 1 MiB is refused as corrupt


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> None:
    """Write records as canonical JSON lines, atomically."""
    lines = [json.dumps(r, sort_keys=True, separators=(",", ":")) for r in records]
    write_atomic(path, ("\n".join(lines) + ("\n" if lines else "")).encode())


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads_strict(data: bytes | str) -> Any:
    """``json.loads`` of UTF-8 text that refuses NaN and Infinity (Python's json accepts them and
    guesses UTF-16/32 from bytes; JSON files here are UTF-8)."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    return json.loads(text, parse_constant=_no_constant)


def check_version(where: str, rec: dict[str, Any], known: Collection[int], *, required: bool = True) -> None:
    """DataError unless ``rec['schema_version']`` is one of ``known`` (absent: an error if ``required``)."""
    if "schema_version" not in rec and not required:
        return
    v = rec.get("schema_version")
    if type(v) is not int or v not in known:
        what = "has no schema_version" if "schema_version" not in rec else f"has schema_version {v!r}"
        raise DataError(f"{where}: record {what}; this robostress reads version "
                        f"{' or '.join(str(k) for k in sorted(known))}")


def read_jsonl(path: Path, versions: Collection[int] | None = None, *,
               required: bool = True) -> Iterator[dict[str, Any]]:
    """Records of a JSONL file; DataError naming the file and line on a corrupt record.

    Args:
        path: the file.
        versions: if given, every record's ``schema_version`` must be one of these.
        required: whether a record without ``schema_version`` is refused (files written before
            they carried one, such as ``skipped.jsonl``, pass ``False``).
    """
    try:
        f = open(path, "rb")
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror}") from e
    with f:
        for n, line in enumerate(_lines(f, path), 1):
            if not line.strip():
                continue
            try:
                rec = loads_strict(line)
            except (ValueError, RecursionError) as e:
                raise DataError(f"{path}:{n}: not valid JSON ({str(e)[:120]})") from None
            if not isinstance(rec, dict):
                raise DataError(f"{path}:{n}: expected a JSON object")
            if versions is not None:
                check_version(f"{path}:{n}", rec, versions, required=required)
            yield rec


def _lines(f: Any, path: Path) -> Iterator[bytes]:
    """Lines of a binary file, each at most MAX_LINE_BYTES (a longer one is an error, not read whole)."""
    n = 0
    while True:
        line = f.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        n += 1
        if len(line) > MAX_LINE_BYTES:
            raise DataError(f"{path}:{n}: record larger than {MAX_LINE_BYTES} bytes")
        yield line


def content_hash(root: Path, jsonl_names: Sequence[str], frames: Sequence[Any]) -> str:
    """SHA-256 over the benchmark's records and every frame file's hash (order-independent of disk)."""
    h = hashlib.sha256()
    for name in jsonl_names:
        p = Path(root) / name
        h.update(name.encode())
        h.update(hashlib.sha256(p.read_bytes()).digest() if p.exists() else b"-")
    for f in sorted(frames, key=lambda f: f.frame_id):
        h.update(f.frame_id.encode())
        for k in sorted(f.hashes):
            h.update(f"{k}={f.hashes[k]}".encode())
    return h.hexdigest()


IDENTITY_VERSION = 1
IDENTITY_FILES = ("scenes.jsonl", "items.jsonl", "skipped.jsonl")  # hashed whole
EXACT_FRAME_FILES = ("mask", "free")  # ids of the first surface hit and free space: one ray per pixel centre
RENDERED = ("hashes", "render")  # frame fields that hold render noise (pixel hashes, noise record)


def exact_frame(frame: Any) -> dict[str, Any]:
    """A frame (a Frame, its JSON record, or an object holding that as ``record``) without what render noise may change: pixel hashes and the noise record,
    the realised measures (measured on the pixels), each object's photometric contrast and the
    depth file (floats in mm, rounded); the mask and free-space hashes stay."""
    rec = frame.model_dump(mode="json") if hasattr(frame, "model_dump") else getattr(frame, "record", frame)
    out = {k: v for k, v in rec.items() if k not in RENDERED and k != "depth"}
    out["stress"] = _unrealised(rec["stress"])
    out["objects"] = [{k: v for k, v in o.items() if k != "contrast"} for o in rec["objects"]]
    out["exact_hashes"] = {k: rec["hashes"].get(k) for k in EXACT_FRAME_FILES}
    return out


def _unrealised(stress: dict[str, Any]) -> dict[str, Any]:
    """A stress record without its realised measures (a compound's: in each of its factors too)."""
    out = {k: v for k, v in stress.items() if k != "realised"}
    if out.get("factors") is not None:
        out["factors"] = [_unrealised(f) for f in out["factors"]]
    return out


def identity_hash(root: Path, frames: Sequence[Any]) -> str:
    """SHA-256 of what a benchmark asks and what is true in it, independent of render noise:
    plans (scenes.jsonl), items with their answers, skipped jobs, and every frame's exact part
    (``exact_frame``), in frame-id order. A rebuild on another machine, with another Mitsuba
    variant or another number of shards gives the same identity."""
    h = hashlib.sha256(f"robostress-identity/{IDENTITY_VERSION}".encode())
    for name in IDENTITY_FILES:
        p = Path(root) / name
        h.update(name.encode())
        h.update(hashlib.sha256(p.read_bytes()).digest() if p.exists() else b"-")
    for f in sorted(frames, key=lambda f: f.frame_id):
        h.update(json.dumps(exact_frame(f), sort_keys=True, separators=(",", ":")).encode())
    return h.hexdigest()


def read_manifest(root: Path) -> dict[str, Any]:
    """The manifest of a built benchmark; DataError if missing, corrupt or of an unknown version."""
    p = Path(root) / "manifest.json"
    if not p.is_file():
        hint = " (an interrupted build: rerun `robostress build` to resume)" if Path(root).is_dir() else ""
        raise DataError(f"no benchmark at {root}: manifest.json is missing{hint}")
    try:
        m = loads_strict(p.read_bytes())
    except OSError as e:
        raise DataError(f"cannot read {p}: {e.strerror}") from None
    except (ValueError, RecursionError) as e:
        raise DataError(f"{p} is not valid JSON: {str(e)[:120]}") from None
    if not isinstance(m, dict):
        raise DataError(f"{p}: expected a JSON object")
    v = m.get("schema_version")
    if type(v) is not int or v != MANIFEST_SCHEMA_VERSION:
        raise DataError(f"{p}: manifest schema_version {v!r} is not supported "
                        f"(this robostress reads version {MANIFEST_SCHEMA_VERSION})")
    if not isinstance(m.get("content_hash"), str):
        raise DataError(f"{p}: content_hash is missing or not a string")
    return m
