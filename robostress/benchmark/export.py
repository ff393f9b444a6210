"""Write a built benchmark as a Hugging Face ``datasets`` dataset folder (Parquet + dataset card).

Layout of an export (``docs/export.md``)::

    README.md               dataset card: HF front matter (configs, licence), hash, schema, taxonomy
    export.json             robostress's index: content hash, counts, sha256 and size of every file below
    data/items-NNNNN.parquet    config ``items``: one row per item, with its RGB image
    data/frames-NNNNN.parquet   config ``frames``: one row per frame, RGB + mask + depth + free PNGs
    records/                manifest.json and the JSONL files of the benchmark, byte for byte

``datasets.load_dataset(<export>, "items")`` reads it through the card's ``configs``; robostress
reads it back with pyarrow alone (``robostress.benchmark.dataset``) into a folder that is the built
benchmark byte for byte, so evaluation needs neither Mitsuba nor ``datasets``.

Items of one frame share one image: each frame's items form one Parquet row group, whose
dictionary encoding then stores the image once, so the ``items`` shards stay about as large as
the images themselves instead of one copy per question.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from robostress.benchmark.card import dataset_card
from robostress.benchmark.dataset import EXPORT_INDEX, FRAME_FILES
from robostress.benchmark.load import Benchmark
from robostress.benchmark.verify import JSONL, file_sha256, require_whole
from robostress.errors import ConfigError, DataError

log = logging.getLogger(__name__)
EXPORT_SCHEMA_VERSION = 1
DICT_PAGE_LIMIT = 64 << 20  # dictionary page bytes: large enough for one frame's image at 4096 px


def _features() -> dict[str, Any]:
    """The ``datasets.Features`` of the two configs (``datasets`` imported here: an extra)."""
    try:
        from datasets import Features, Image, Sequence, Value
    except ImportError as e:
        raise ConfigError("robostress export needs Hugging Face datasets: pip install 'robostress[export]'") from e
    s, i = Value("string"), Value("int32")
    items = Features({"item_id": s, "frame_id": s, "scene_id": s, "clean_item_id": s, "key": s,
                      "dimension": s, "subtype": s, "severity": i, "ability": s, "qtype": s,
                      "format": s, "question": s, "prompt": s, "options": Sequence(s), "answer": s,
                      "truth": s, "prompt_version": s, "image": Image()})
    frames = Features({"frame_id": s, "scene_id": s, "clean_frame_id": s, "dimension": s,
                       "subtype": s, "severity": i, "width": i, "height": i, "record": s,
                       **{k: Image() for k in FRAME_FILES}})
    return {"items": items, "frames": frames}


class _ShardWriter:
    """Parquet shards of one config, a new shard after ``shard_bytes`` of input, one row group per call."""

    def __init__(self, out: Path, config: str, features: Any, shard_bytes: int) -> None:
        import pyarrow.parquet as pq

        self.pq, self.out, self.config, self.features = pq, out, config, features
        self.schema = features.arrow_schema  # carries the HF features as metadata (Image columns)
        self.shard_bytes, self.rows = shard_bytes, 0
        self.paths: list[Path] = []
        self.writer: Any = None
        self.size = 0

    def write(self, rows: list[dict[str, Any]], nbytes: int) -> None:
        import pyarrow as pa

        if self.writer is None or self.size >= self.shard_bytes:
            self.close()
            path = self.out / "data" / f"{self.config}-{len(self.paths):05d}.parquet"
            self.paths.append(path)
            self.writer = self.pq.ParquetWriter(path, self.schema, compression="zstd",
                                                dictionary_pagesize_limit=DICT_PAGE_LIMIT)
            self.size = 0
        table = pa.Table.from_pylist([self.features.encode_example(r) for r in rows], schema=self.schema)
        self.writer.write_table(table, row_group_size=len(rows))
        self.size += nbytes
        self.rows += len(rows)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def _png(bench: Benchmark, rel: str) -> dict[str, Any]:
    return {"bytes": bench.path(rel).read_bytes(), "path": rel}


def _item_rows(bench: Benchmark) -> Iterator[tuple[list[dict[str, Any]], int]]:
    """Items grouped by frame (file order), each group with its frame's image bytes."""
    group: list[dict[str, Any]] = []
    image: dict[str, Any] = {}
    for it in bench.items:
        if group and group[-1]["frame_id"] != it.frame_id:
            yield group, len(image["bytes"])
            group = []
        if not group:
            image = _png(bench, it.image)
        group.append({**it.model_dump(include={"item_id", "frame_id", "scene_id", "clean_item_id", "key",
                                               "dimension", "subtype", "severity", "ability", "qtype",
                                               "format", "question", "prompt", "answer", "prompt_version"}),
                      "options": list(it.options), "image": image,
                      "truth": json.dumps(it.truth, sort_keys=True, separators=(",", ":"))})
    if group:
        yield group, len(image["bytes"])


def _frame_rows(bench: Benchmark) -> Iterator[tuple[list[dict[str, Any]], int]]:
    batch: list[dict[str, Any]] = []
    size = 0
    for f in bench.frames.values():
        files = {k: _png(bench, getattr(f, k)) for k in FRAME_FILES}
        batch.append({"frame_id": f.frame_id, "scene_id": f.scene_id, "clean_frame_id": f.clean_frame_id,
                      "dimension": f.stress.dimension, "subtype": f.stress.subtype,
                      "severity": f.stress.severity, "width": f.width, "height": f.height,
                      "record": f.model_dump_json(), **files})
        size += sum(len(v["bytes"]) for v in files.values())
        if len(batch) == 32:
            yield batch, size
            batch, size = [], 0
    if batch:
        yield batch, size


def export_benchmark(bench_dir: Path, out_dir: Path, *, shard_mb: float = 512,
                     verify_cache: Path | None = None) -> dict[str, Any]:
    """Export the (verified) benchmark at ``bench_dir`` into the new folder ``out_dir``.

    Args:
        bench_dir: a built benchmark; refused unless it passes ``robostress verify``.
        out_dir: a new or empty folder.
        shard_mb: start a new Parquet shard after this many MB of PNG bytes.
        verify_cache: verify's size+mtime hash cache (None: the default).

    Returns:
        The export index (what ``export.json`` holds).
    """
    features = _features()
    bench = Benchmark(bench_dir)
    require_whole(bench, verify_cache)
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"out_dir={out} is not empty: give a new folder for the export")
    (out / "data").mkdir(parents=True, exist_ok=True)
    (out / "records").mkdir()
    for name in ("manifest.json",) + JSONL:
        if (bench.root / name).is_file():
            shutil.copyfile(bench.root / name, out / "records" / name)
    counts = {}
    for config, rows in (("items", _item_rows(bench)), ("frames", _frame_rows(bench))):
        w = _ShardWriter(out, config, features[config], int(shard_mb * (1 << 20)))
        try:
            for batch, nbytes in rows:
                w.write(batch, nbytes)
        finally:
            w.close()
        counts[config] = w.rows
    if counts["frames"] != len(bench.frames) or counts["items"] != len(bench.items):
        raise DataError(f"export wrote {counts} rows for {len(bench.frames)} frames and {len(bench.items)} items")
    card = dataset_card(bench, features, counts)
    (out / "README.md").write_text(card, encoding="utf-8")
    files = sorted(p for p in out.rglob("*") if p.is_file())
    index = {"schema_version": EXPORT_SCHEMA_VERSION, "format": "robostress-hf-export",
             "name": bench.manifest.get("name"), "content_hash": bench.content_hash, "counts": counts,
             "files": {p.relative_to(out).as_posix(): {"sha256": file_sha256(p), "bytes": p.stat().st_size}
                       for p in files}}
    (out / EXPORT_INDEX).write_text(json.dumps(index, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    log.info("exported %s (%s): %d items, %d frames in %d files",
             bench.root, bench.content_hash[:12], counts["items"], counts["frames"], len(files))
    return index

