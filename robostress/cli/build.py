"""``robostress build``: thin Hydra entry point over robostress.benchmark.build."""

from __future__ import annotations

from pathlib import Path

import hydra
from omegaconf import DictConfig

from robostress.cli.common import checked, log, user_errors
from robostress.cli.groups import build_config

CONFIG = "build"
HELP = "Render a benchmark (scenes, stressed twins, ground truth, questions) into benchmarks/<name>."


def run_build(cfg: DictConfig) -> dict:  # type: ignore[type-arg]
    """Build the benchmark described by ``cfg``; returns its manifest."""
    from robostress.benchmark.build import Builder  # deferred: keeps `robostress --help` fast

    bc = build_config(cfg.benchmark, cfg.renderer, cfg.shard, cfg.num_shards)
    builder = Builder(bc, Path(cfg.out_dir), Path(cfg.cache_dir))
    log.info("building %s with %s into %s", bc.name, builder.renderer.variant, cfg.out_dir)
    m = builder.build(progress=bool(cfg.progress))
    c = m["counts"]
    log.info("built %s: %d scenes, %d frames (%d skipped), %d items in %.1fs; hash %s",
             cfg.out_dir, c["scenes"], c["frames"], c["skipped"], c["items"], m["build_seconds"],
             m["content_hash"][:12])
    return m


@hydra.main(config_path="../conf", config_name=CONFIG, version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    """Entry point."""
    checked(CONFIG, cfg)
    run_build(cfg)
