"""Read a built benchmark directory (the evaluate phase needs no Mitsuba)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel, ValidationError

from robostress.benchmark.manifest import read_jsonl, read_manifest
from robostress.errors import DataError
from robostress.questions.item import Item
from robostress.render.frame import Frame
from robostress.render.io import read_rgb, read_u16, safe_join
from robostress.scene.plan import ScenePlan

M = TypeVar("M", bound=BaseModel)


def read_records(path: Path, model: type[M], key: str | None = None, *, noun: str | None = None,
                 duplicate: str | None = None) -> list[M]:
    """Validated records of a JSONL file: its model's schema_version only, ``key`` unique.

    A record that does not validate is refused as 'invalid <Model>' (or 'not a valid <noun>'),
    a repeated key as 'duplicate <key> ...' (or ``duplicate`` formatted with the key); both
    with the file and line."""
    version = model.model_fields["schema_version"].default
    out, seen = [], set()
    for n, rec in enumerate(read_jsonl(path, (version,)), 1):
        try:
            r = model.model_validate(rec)
        except ValidationError as e:
            first = e.errors()[0]
            loc = ".".join(str(x) for x in first["loc"])
            what = f"not a valid {noun}" if noun else f"invalid {model.__name__}"
            raise DataError(f"{path}:{n}: {what} ({loc}: {first['msg'][:120]})") from None
        if key is not None:
            k = getattr(r, key)
            if k in seen:
                raise DataError(f"{path}:{n}: " + (duplicate.format(k) if duplicate else f"duplicate {key} {k!r}"))
            seen.add(k)
        out.append(r)
    return out


class Benchmark:
    """A built benchmark: manifest, scenes, frames and items, with safe file access."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()
        self.manifest: dict[str, Any] = read_manifest(self.root)

    @property
    def content_hash(self) -> str:
        """SHA-256 of the records and every pixel (the same only where render noise is)."""
        return str(self.manifest["content_hash"])

    @property
    def identity(self) -> str | None:
        """SHA-256 of plans, items, truth and masks: the same on every machine (None: a build
        older than the identity)."""
        v = self.manifest.get("identity")
        return v if isinstance(v, str) else None

    @cached_property
    def scenes(self) -> dict[str, ScenePlan]:
        """Clean scene plans by scene id."""
        return {p.scene_id: p for p in read_records(self.root / "scenes.jsonl", ScenePlan, "scene_id")}

    @cached_property
    def environments(self) -> dict[str, str]:
        """Scene id -> environment, for the scenes that name one (a multi-environment build,
        issue 24; empty for a lab build)."""
        return {sid: p.environment for sid, p in self.scenes.items() if p.environment is not None}

    @cached_property
    def frames(self) -> dict[str, Frame]:
        """Frames by frame id."""
        return {f.frame_id: f for f in read_records(self.root / "frames.jsonl", Frame, "frame_id")}

    @cached_property
    def items(self) -> list[Item]:
        """All items, in file order."""
        return read_records(self.root / "items.jsonl", Item, "item_id")

    def path(self, rel: str) -> Path:
        """Absolute path of a file of the benchmark (never outside its folder)."""
        return safe_join(self.root, rel)

    def image(self, rel: str) -> np.ndarray:
        """An RGB image of the benchmark."""
        return read_rgb(self.path(rel))

    def mask(self, rel: str) -> np.ndarray:
        """A 16-bit mask (instance ids, free space) of the benchmark."""
        return read_u16(self.path(rel))
