"""Library settings from the composed config groups, shared by the commands that build
(``build``, the main job, ``train-detector``) and by the config check (``robostress.cli.validate``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from omegaconf import DictConfig

if TYPE_CHECKING:
    from robostress.benchmark.build import BuildConfig  # deferred: keeps `robostress --help` fast


def build_config(bench: DictConfig, renderer: DictConfig, shard: int = 0, num_shards: int = 1) -> BuildConfig:
    """BuildConfig from the ``benchmark`` and ``renderer`` config groups."""
    from robostress.benchmark.build import BuildConfig  # deferred: keeps `robostress --help` fast
    from robostress.render.renderer import (
        RenderSettings,  # deferred: keeps `robostress --help` fast
    )

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
