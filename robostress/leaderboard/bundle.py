"""Reading a submission bundle safely: a folder with ``run.json``, ``model_card.json`` and
``predictions.jsonl`` (or ``predictions.jsonl.gz``), nothing else.

Everything in a bundle is untrusted: files are listed without following links (a link, or any
path that resolves outside the bundle, is refused), sizes are bounded before reading (gzip is
read in bounded chunks, so a compression bomb stops at the limit), pickles are refused by name
and by their magic bytes, and JSON is parsed with the standard parser only.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BUNDLE_FILES = ("run.json", "model_card.json", "predictions.jsonl", "predictions.jsonl.gz")
PICKLE_SUFFIXES = (".pkl", ".pickle", ".pt", ".pth", ".bin", ".joblib", ".npy", ".npz", ".ckpt")
MAX_JSON_BYTES = 1_000_000
MAX_LINE_BYTES = 64_000


@dataclass(frozen=True)
class Limits:
    """Size limits of a board's bundles (bytes)."""

    max_file_bytes: int = 50_000_000  # any single file, and a gzip file once decompressed
    max_total_bytes: int = 60_000_000  # all files of the bundle together (as stored)


class Refused(Exception):
    """A bundle problem; ``reason`` is one line naming it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class BundleFiles:
    """The files of a bundle that passed the layout checks."""

    root: Path
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def predictions(self) -> Path:
        """The predictions file (plain or gzip)."""
        return self.files.get("predictions.jsonl") or self.files["predictions.jsonl.gz"]


def _is_pickle(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(2)
    return len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5  # pickle protocols 2..5


def check_layout(root: Path, limits: Limits) -> BundleFiles:
    """Refuse anything but a plain folder of the known files within the size limits."""
    root = Path(root)
    if root.is_symlink() or not root.is_dir():
        raise Refused(f"{root} is not a bundle folder")
    real_root = root.resolve()
    out, total = BundleFiles(root), 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in sorted(dirnames + filenames):
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                raise Refused(f"{rel} is a link; a bundle holds plain files only (no path may leave it)")
            if not p.resolve().is_relative_to(real_root):
                raise Refused(f"{rel} resolves outside the bundle")
            if p.is_dir():
                raise Refused(f"{rel}/ is a folder; a bundle is flat: {', '.join(BUNDLE_FILES)}")
            if name.lower().endswith(PICKLE_SUFFIXES) or (p.is_file() and _is_pickle(p)):
                raise Refused(f"{rel} is a pickle (or a binary checkpoint); bundles hold JSON only, never pickles")
            if name not in BUNDLE_FILES:
                raise Refused(f"unexpected file {rel}; a bundle holds only {', '.join(BUNDLE_FILES)}")
            size = p.stat().st_size
            if size > limits.max_file_bytes:
                raise Refused(f"{rel} is {size} bytes, over the board's limit of {limits.max_file_bytes}")
            total += size
            out.files[name] = p
    if total > limits.max_total_bytes:
        raise Refused(f"the bundle is {total} bytes, over the board's limit of {limits.max_total_bytes}")
    for need in ("run.json", "model_card.json"):
        if need not in out.files:
            raise Refused(f"{need} is missing from the bundle")
    if ("predictions.jsonl" in out.files) == ("predictions.jsonl.gz" in out.files):
        raise Refused("a bundle needs exactly one of predictions.jsonl or predictions.jsonl.gz")
    return out


def read_json(path: Path, what: str) -> dict[str, Any]:
    """A JSON object from a bounded file."""
    if path.stat().st_size > MAX_JSON_BYTES:
        raise Refused(f"{what} is over {MAX_JSON_BYTES} bytes")
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise Refused(f"{what} is malformed JSON ({str(e).splitlines()[0][:120]})") from e
    if not isinstance(data, dict):
        raise Refused(f"{what} must be a JSON object, not {type(data).__name__}")
    return data


def _chunks(path: Path, limit: int) -> Iterator[bytes]:
    """The file's bytes (decompressed for .gz) in chunks; Refused past ``limit`` bytes."""
    seen = 0
    if path.name.endswith(".gz"):
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        with open(path, "rb") as f:
            while block := f.read(1 << 16):
                while block:
                    try:
                        out = d.decompress(block, 1 << 20)
                    except zlib.error as e:
                        raise Refused(f"{path.name} is not valid gzip ({e})") from e
                    seen += len(out)
                    if seen > limit:
                        raise Refused(f"{path.name} decompresses to over {limit} bytes, the board's limit")
                    yield out
                    block = d.unconsumed_tail
        return
    with open(path, "rb") as f:
        while block := f.read(1 << 16):
            yield block


def jsonl_records(path: Path, limit: int) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, JSON object) of each non-empty line, bounded in line and total size."""
    buf, n = b"", 0
    for chunk in _chunks(path, limit):
        buf += chunk
        *lines, buf = buf.split(b"\n")
        if len(buf) > MAX_LINE_BYTES:
            raise Refused(f"{path.name}:{n + len(lines) + 1}: a line is over {MAX_LINE_BYTES} bytes")
        for line in lines:
            n += 1
            if line.strip():
                yield n, _line(path, n, line)
    if buf.strip():
        yield n + 1, _line(path, n + 1, buf)


def _line(path: Path, n: int, line: bytes) -> dict[str, Any]:
    if len(line) > MAX_LINE_BYTES:
        raise Refused(f"{path.name}:{n}: a line is over {MAX_LINE_BYTES} bytes")
    try:
        rec = json.loads(line.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise Refused(f"{path.name}:{n}: malformed JSON ({str(e).splitlines()[0][:120]})") from e
    if not isinstance(rec, dict):
        raise Refused(f"{path.name}:{n}: a prediction must be a JSON object")
    return rec


def write_gzip(path: Path, data: bytes) -> None:
    """Deterministic gzip (no name, no time stamp): same bytes in, same file out."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as f:
        f.write(data)
    os.replace(tmp, path)
