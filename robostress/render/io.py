"""Frame files: deterministic PNG encoding, atomic writes, content hashes, safe reading."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from robostress.errors import DataError


def encode_rgb(rgb: np.ndarray) -> bytes:
    """8-bit RGB PNG bytes (fixed compression, no metadata: byte-identical for equal pixels)."""
    buf = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buf, format="PNG", compress_level=6, optimize=False)
    return buf.getvalue()


def encode_u16(a: np.ndarray) -> bytes:
    """16-bit single-channel PNG bytes."""
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(a, np.uint16), [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not ok:
        raise DataError("could not encode a 16-bit PNG")
    return bytes(buf)


def depth_to_mm(depth: np.ndarray) -> np.ndarray:
    """Ray distance in metres -> uint16 millimetres (0 = no hit; clipped at 65.535 m)."""
    return np.clip(np.round(np.nan_to_num(depth) * 1000.0), 0, 65535).astype(np.uint16)


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


@contextmanager
def _staged(dest: Path) -> Iterator[Path]:
    """A temporary path beside ``dest`` for the caller to fill and rename onto ``dest``. A write
    error (disk full, read-only folder) removes it, leaves any previous ``dest`` as it was, and
    raises DataError naming the file."""
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
    except OSError as e:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise DataError(f"cannot write {dest}: {e.strerror or e}; files written before are kept, "
                        "free space (or make the folder writable) and rerun to resume") from None


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and rename (never a half-written file);
    DataError on a write error (see ``_staged``)."""
    path = Path(path)
    with _staged(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)


def copy_atomic(src: Path, dest: Path) -> None:
    """Place ``src`` at ``dest`` as a hard link, else as a copy through a temporary file, so that
    ``dest`` is never a half-written file; DataError on a write error."""
    with _staged(dest) as tmp:
        if dest.exists() and os.path.samefile(src, dest):
            return
        tmp.unlink(missing_ok=True)
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
        tmp.unlink(missing_ok=True)  # rename between two links of one file leaves both in place


def safe_join(root: Path, rel: str) -> Path:
    """``root / rel`` guaranteed to stay inside ``root`` (DataError otherwise)."""
    root = Path(root).resolve()
    p = (root / rel).resolve()
    if p != root and root not in p.parents:
        raise DataError(f"path {rel!r} escapes the folder {root}")
    return p


def read_rgb(path: Path) -> np.ndarray:
    """An RGB PNG as H x W x 3 uint8."""
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read image {path}: {e}") from e


def read_u16(path: Path) -> np.ndarray:
    """A 16-bit PNG as H x W uint16."""
    a = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if a is None:
        raise DataError(f"cannot read 16-bit PNG {path}")
    if a.dtype != np.uint16 or a.ndim != 2:
        raise DataError(f"{path} is not a single-channel 16-bit PNG")
    return a
