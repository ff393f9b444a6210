"""Library settings from the composed config groups, shared by the commands that build
(``build``, the main job, ``train-detector``) and by the config check (``robostress.cli.validate``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from omegaconf import DictConfig, OmegaConf

if TYPE_CHECKING:
    from robostress.benchmark.build import BuildConfig  # deferred: keeps `robostress --help` fast


def build_config(bench: DictConfig, renderer: DictConfig, shard: int = 0, num_shards: int = 1) -> BuildConfig:
    """BuildConfig from the ``benchmark`` and ``renderer`` config groups."""
    from robostress.benchmark.build import BuildConfig  # deferred: keeps `robostress --help` fast
    from robostress.render.renderer import render_settings  # deferred: as above
    from robostress.stress.compound import CompoundDesign  # deferred: as above

    subtypes = bench.subtypes if isinstance(bench.subtypes, str) else list(bench.subtypes)
    comp = bench.get("compound")
    design = None if comp is None else CompoundDesign.from_config(
        **OmegaConf.to_container(comp, resolve=True), subtypes=subtypes)  # type: ignore[arg-type]
    settings = render_settings(OmegaConf.to_container(renderer, resolve=True), int(bench.width),  # type: ignore[arg-type]
                               int(bench.height))
    return BuildConfig(
        name=str(bench.name), family=str(bench.family), num_scenes=int(bench.num_scenes),
        seed=int(bench.seed), subtypes=subtypes, severities=[int(s) for s in bench.severities],
        questions=bool(bench.questions), shard=int(shard), num_shards=int(num_shards),
        render=settings, compound=design)
