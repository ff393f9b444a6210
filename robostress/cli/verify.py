"""``robostress verify benchmark_dir=... [against=OTHER]``: check every file against the manifest
and frame hashes; with ``against``, also whether OTHER is the same benchmark (plans, items, truth,
masks exactly) and how closely its images agree (max and mean absolute difference, PSNR)."""

from __future__ import annotations

from pathlib import Path

import hydra
from omegaconf import DictConfig

from robostress.cli.common import checked, log, user_errors
from robostress.errors import DataError

CONFIG = "verify"
HELP = "Check a built benchmark's files against its hashes; against=OTHER: same benchmark? pixel agreement."


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
    if cfg.against:
        _against(res.root, Path(cfg.against), Path(cfg.cache_dir), bool(cfg.full))


def _against(root: Path, other: Path, cache_dir: Path, full: bool) -> None:
    """Compare with another build; DataError (exit 2) if it is not the same benchmark."""
    from robostress.benchmark.agreement import (
        compare_builds,  # deferred: keeps `robostress --help` fast
    )
    from robostress.benchmark.load import (
        Benchmark,  # deferred: keeps `robostress --help` fast
    )
    from robostress.benchmark.verify import (
        verify_benchmark,  # deferred: keeps `robostress --help` fast
    )

    b = verify_benchmark(other, cache_dir, full=full)
    if not b.ok:
        raise DataError(f"against={other}: benchmark {b.root} is damaged: {len(b.problems)} problems ({b.brief(3)})")
    agree = compare_builds(Benchmark(root), Benchmark(b.root))
    log.info("against %s:", b.root)
    for line in agree.lines():
        log.info("  %s", line)
    if not agree.same_benchmark:
        raise DataError(f"{b.root} is not the same benchmark as {root}: {agree.differences[0] if agree.differences else 'identities differ'}")
