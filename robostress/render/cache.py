"""A content-addressed render cache: an unchanged frame is never rendered twice.

An entry is a folder named by the SHA-256 of (plan JSON, render settings, seed); it holds the
frame's PNGs and a ``meta.json`` written last, so an entry without meta.json is incomplete
(an interrupted render) and is simply rendered again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from robostress.errors import ConfigError
from robostress.render.io import copy_atomic, write_atomic

FILES = ("image", "mask", "depth", "free")


def cache_key(plan_json: str, settings: dict[str, Any], seed: int) -> str:
    """SHA-256 of everything that determines a frame's pixels and ground truth."""
    blob = json.dumps({"plan": plan_json, "render": settings, "seed": int(seed)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


class RenderCache:
    """Frames stored by content key under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ConfigError(f"cannot create the render cache folder {self.root}: {e.strerror}") from e

    def entry(self, key: str) -> Path:
        """Folder of entry ``key``."""
        return self.root / key[:2] / key

    def get(self, key: str) -> dict[str, Any] | None:
        """The entry's meta (with absolute file paths) or None if absent or incomplete."""
        d = self.entry(key)
        meta_path = d / "meta.json"
        if not meta_path.is_file():
            return None
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            return None
        if not all((d / f"{name}.png").is_file() for name in FILES):
            return None
        return meta

    def put(self, key: str, files: dict[str, bytes], meta: dict[str, Any]) -> None:
        """Store the PNG bytes of each of FILES, then the meta (which marks the entry complete)."""
        d = self.entry(key)
        for name in FILES:
            write_atomic(d / f"{name}.png", files[name])
        write_atomic(d / "meta.json", json.dumps(meta, sort_keys=True).encode())

    def export(self, key: str, name: str, dest: Path) -> None:
        """Place a cached file at ``dest`` (hard link when possible, else a copy)."""
        copy_atomic(self.entry(key) / f"{name}.png", dest)
