"""``robostress export benchmark_dir=... out_dir=... [format=rsb]``: thin Hydra entry point over
robostress.benchmark.export (a Hugging Face ``datasets`` folder: Parquet shards and a dataset card)
and, with ``format=rsb``, robostress.interop.rsb_export (RoboStressBench's dataset layout)."""

from __future__ import annotations

from pathlib import Path

import hydra
from omegaconf import DictConfig

from robostress.cli.common import checked, log, user_errors

CONFIG = "export"
HELP = ("Write a built benchmark as a Hugging Face datasets folder (Parquet, dataset card) that eval reads "
        "without Mitsuba, or (format=rsb) as a dataset in RoboStressBench's layout.")


@hydra.main(config_path="../conf", config_name=CONFIG, version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    """Entry point."""
    checked(CONFIG, cfg)
    verify_cache = Path(cfg.verify_cache) if cfg.verify_cache else None
    if cfg.format == "rsb":
        from robostress.interop.rsb_export import (
            export_rsb,  # deferred: keeps `robostress --help` fast
        )

        counts = export_rsb(Path(cfg.benchmark_dir), Path(cfg.out_dir), mask_format=str(cfg.mask_format),
                            verify_cache=verify_cache)
        log.info("exported %s to %s in RoboStressBench's layout: %d samples (%d mcq, %d bbox, %d mask; "
                 "%d stressed, %d clean), %d images", cfg.benchmark_dir, cfg.out_dir, counts["samples"],
                 counts["mcq"], counts["bbox"], counts["mask"], counts["stressed"], counts["clean"], counts["frames"])
        return
    from robostress.benchmark.export import (
        export_benchmark,  # deferred: keeps `robostress --help` fast
    )

    idx = export_benchmark(Path(cfg.benchmark_dir), Path(cfg.out_dir), shard_mb=int(cfg.shard_mb),
                           verify_cache=verify_cache)
    size = sum(f["bytes"] for f in idx["files"].values())
    log.info("exported %s to %s: %d items, %d frames, %d files, %.1f MB; hash %s", cfg.benchmark_dir,
             cfg.out_dir, idx["counts"]["items"], idx["counts"]["frames"], len(idx["files"]), size / 1e6,
             idx["content_hash"][:12])
