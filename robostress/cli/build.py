"""``robostress build``: thin Hydra entry point over robostress.benchmark.build."""

from __future__ import annotations

from pathlib import Path

import hydra
from omegaconf import DictConfig

from robostress.cli.common import checked, log, user_errors

CONFIG = "build"
HELP = "Render a benchmark (scenes, stressed twins, ground truth, questions) into benchmarks/<name>."


def build_config(bench: DictConfig, renderer: DictConfig, shard: int = 0, num_shards: int = 1):  # type: ignore[no-untyped-def]
    """BuildConfig from the ``benchmark`` and ``renderer`` config groups."""
    from robostress.benchmark.build import BuildConfig
    from robostress.render.renderer import RenderSettings

    subtypes = bench.subtypes if isinstance(bench.subtypes, str) else list(bench.subtypes)
    extra: dict[str, object] = {}  # noise matching; the dataclass defaults when a preset omits them
    if "passes" in renderer:
        extra["passes"] = int(renderer.passes)
    if "noise_ratio" in renderer:
        extra["noise_ratio"] = None if renderer.noise_ratio is None else float(renderer.noise_ratio)
    if "spp_ladder" in renderer:
        extra["spp_ladder"] = tuple(int(x) for x in renderer.spp_ladder)
    return BuildConfig(
        name=str(bench.name), family=str(bench.family), num_scenes=int(bench.num_scenes),
        seed=int(bench.seed), subtypes=subtypes, severities=[int(s) for s in bench.severities],
        questions=bool(bench.questions), shard=int(shard), num_shards=int(num_shards),
        render=RenderSettings(width=int(bench.width), height=int(bench.height), spp=int(renderer.spp),
                              sampler=str(renderer.sampler), max_depth=int(renderer.max_depth),
                              variant=str(renderer.variant), **extra))  # type: ignore[arg-type]


def run_build(cfg: DictConfig) -> dict:  # type: ignore[type-arg]
    """Build the benchmark described by ``cfg``; returns its manifest."""
    from robostress.benchmark.build import Builder

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
