"""``robostress eval model=... [agent=...]``: thin Hydra entry point over robostress.evaluate."""

from __future__ import annotations

from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from robostress.cli.common import checked, log, user_errors

CONFIG = "eval"
HELP = "Evaluate one model (optionally wrapped by an agent) on a built benchmark into runs/<benchmark>/<label>."


@hydra.main(config_path="../conf", config_name=CONFIG, version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    """Entry point."""
    checked(CONFIG, cfg)
    from robostress.benchmark.dataset import (
        resolve_benchmark_dir,  # deferred: keeps `robostress --help` fast
    )
    from robostress.benchmark.manifest import (
        read_manifest,  # deferred: keeps `robostress --help` fast
    )
    from robostress.evaluate.evaluate import evaluate  # deferred: keeps `robostress --help` fast
    from robostress.models.spec import (  # deferred: keeps `robostress --help` fast
        ModelSpec,
        path_safe,
    )

    verify_cache = Path(cfg.verify_cache) if cfg.get("verify_cache") else None
    bench_dir = resolve_benchmark_dir(Path(cfg.benchmark_dir), Path(cfg.dataset_cache), verify_cache)
    model_cfg = OmegaConf.to_container(cfg.model, resolve=True)
    agent_cfg = OmegaConf.to_container(cfg.agent, resolve=True)
    runs = Path("runs") / path_safe(str(read_manifest(bench_dir)["name"] or "model"))
    run_dir = Path(cfg.run_dir) if cfg.run_dir else \
        ModelSpec.from_config(model_cfg, agent_cfg).run_dir(runs)  # type: ignore[arg-type]
    out = evaluate(bench_dir, model_cfg, run_dir, agent_cfg=agent_cfg,  # type: ignore[arg-type]
                   batch_size=cfg.batch_size, max_tokens=cfg.max_tokens, limit=cfg.limit,
                   shard=cfg.shard, num_shards=cfg.num_shards, progress=cfg.progress,
                   report=cfg.report, retry_failed=bool(cfg.retry_failed),
                   reference_run=Path(cfg.reference_run) if cfg.reference_run else None,
                   allow_damaged=bool(cfg.get("allow_damaged", False)),
                   verify_cache=verify_cache)
    files = out.get("files", {})
    log.info("run folder: %s", run_dir)
    if "html" in files:
        log.info("report: %s", files["html"])
