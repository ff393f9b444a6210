"""Manifest, JSONL files and the benchmark's content hash (its identity)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from robostress.errors import DataError
from robostress.render.io import write_atomic

MANIFEST_SCHEMA_VERSION = 1
MAX_LINE_BYTES = 1 << 20  # a single JSONL record larger than 1 MiB is refused as corrupt


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> None:
    """Write records as canonical JSON lines, atomically."""
    lines = [json.dumps(r, sort_keys=True, separators=(",", ":")) for r in records]
    write_atomic(path, ("\n".join(lines) + ("\n" if lines else "")).encode())


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Records of a JSONL file; DataError naming the file and line on a corrupt record."""
    try:
        f = open(path, "rb")
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror}") from e
    with f:
        for n, line in enumerate(f, 1):
            if len(line) > MAX_LINE_BYTES:
                raise DataError(f"{path}:{n}: record larger than {MAX_LINE_BYTES} bytes")
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError as e:
                raise DataError(f"{path}:{n}: not valid JSON ({e})") from e
            if not isinstance(rec, dict):
                raise DataError(f"{path}:{n}: expected a JSON object")
            yield rec


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


def read_manifest(root: Path) -> dict[str, Any]:
    """The manifest of a built benchmark; DataError if missing, corrupt or of an unknown version."""
    p = Path(root) / "manifest.json"
    if not p.is_file():
        hint = " (an interrupted build: rerun `robostress build` to resume)" if Path(root).is_dir() else ""
        raise DataError(f"no benchmark at {root}: manifest.json is missing{hint}")
    try:
        m = json.loads(p.read_text())
    except (OSError, ValueError) as e:
        raise DataError(f"{p} is not valid JSON: {e}") from e
    v = m.get("schema_version") if isinstance(m, dict) else None
    if v != MANIFEST_SCHEMA_VERSION:
        raise DataError(f"{p}: manifest schema_version {v!r} is not supported "
                        f"(this robostress reads version {MANIFEST_SCHEMA_VERSION})")
    return m
