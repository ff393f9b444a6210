"""``robostress verify benchmark_dir=...``: check every file against the manifest and frame hashes."""

from __future__ import annotations

from pathlib import Path

import hydra
from omegaconf import DictConfig

from robostress.cli.common import checked, log, user_errors
from robostress.errors import DataError

CONFIG = "verify"
HELP = "Check a built benchmark's files against its manifest and frame hashes."


@hydra.main(config_path="../conf", config_name=CONFIG, version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    """Entry point: exit 0 if the benchmark is whole, else list every problem and exit 2."""
    checked(CONFIG, cfg)
    from robostress.benchmark.verify import (
        verify_benchmark,  # deferred: keeps `robostress --help` fast
    )

    res = verify_benchmark(Path(cfg.benchmark_dir), Path(cfg.cache_dir), full=bool(cfg.full))
    for p in res.problems:
        log.info("BAD %s", p)
    if not res.ok:
        raise DataError(f"benchmark {res.root} is damaged: {len(res.problems)} problems ({res.brief(3)})")
    log.info("ok: %s is whole: %d files match their hashes (%d hashed, %d from the size+mtime cache) "
             "in %.2fs", res.root, res.files, res.hashed, res.cached, res.seconds)
