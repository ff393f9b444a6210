"""``robostress merge shards=[...] | runs=[...] out_dir=...``: thin Hydra entry point over
robostress.benchmark.merge (build shards) and robostress.evaluate.merge (eval shard runs)."""

from __future__ import annotations

from pathlib import Path

import hydra
from omegaconf import DictConfig

from robostress.cli.common import checked, log, user_errors
from robostress.errors import ConfigError

CONFIG = "merge"
HELP = "Merge the shard folders of a build (shards=[...]) or of an eval (runs=[...]) into what one process writes."


def _paths(value: object) -> list[Path]:
    return [Path(str(value))] if isinstance(value, str) else [Path(str(v)) for v in value]  # type: ignore[attr-defined]


@hydra.main(config_path="../conf", config_name=CONFIG, version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    """Entry point: merge build shards or eval shard runs into ``out_dir``."""
    checked(CONFIG, cfg)
    shards, runs = _paths(cfg.shards), _paths(cfg.runs)
    if bool(shards) == bool(runs):
        raise ConfigError("give either shards=[...] (build shard folders) or runs=[...] (eval shard run "
                          "folders), " + ("not both" if shards else "e.g. shards=[benchmarks/s0,benchmarks/s1]"))
    if shards:
        from robostress.benchmark.merge import (
            merge_shards,  # deferred: keeps `robostress --help` fast
        )

        m = merge_shards(shards, Path(cfg.out_dir), Path(cfg.verify_cache) if cfg.verify_cache else None)
        c = m["counts"]
        log.info("merged benchmark %s: %d scenes, %d frames, %d items; hash %s", cfg.out_dir, c["scenes"],
                 c["frames"], c["items"], m["content_hash"][:12])
        return
    from robostress.evaluate.merge import merge_runs  # deferred: keeps `robostress --help` fast

    out = merge_runs(runs, Path(cfg.out_dir), benchmark_dir=Path(cfg.benchmark_dir) if cfg.benchmark_dir else None,
                     reference_run=Path(cfg.reference_run) if cfg.reference_run else None, report=bool(cfg.report))
    log.info("merged run %s: %d predictions", cfg.out_dir, len(out["predictions"]))
    if "html" in out.get("files", {}):
        log.info("report: %s", out["files"]["html"])
