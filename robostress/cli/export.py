"""``robostress export benchmark_dir=... out_dir=...``: thin Hydra entry point over
robostress.benchmark.export (a Hugging Face ``datasets`` folder: Parquet shards and a dataset card)."""

from __future__ import annotations

from pathlib import Path

import hydra
from omegaconf import DictConfig

from robostress.cli.common import checked, log, user_errors

CONFIG = "export"
HELP = "Write a built benchmark as a Hugging Face datasets folder (Parquet, dataset card) that eval reads without Mitsuba."


@hydra.main(config_path="../conf", config_name=CONFIG, version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    """Entry point."""
    checked(CONFIG, cfg)
    from robostress.benchmark.export import (
        export_benchmark,  # deferred: keeps `robostress --help` fast
    )

    idx = export_benchmark(Path(cfg.benchmark_dir), Path(cfg.out_dir), shard_mb=int(cfg.shard_mb),
                           verify_cache=Path(cfg.verify_cache) if cfg.verify_cache else None)
    size = sum(f["bytes"] for f in idx["files"].values())
    log.info("exported %s to %s: %d items, %d frames, %d files, %.1f MB; hash %s", cfg.benchmark_dir,
             cfg.out_dir, idx["counts"]["items"], idx["counts"]["frames"], len(idx["files"]), size / 1e6,
             idx["content_hash"][:12])
