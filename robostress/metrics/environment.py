"""Results per environment (issue 24): clean accuracy and each dimension's paired drop, with
scene-bootstrap intervals, for the scenes of each environment a build drew (``ScenePlan.
environment``). Compound items are left out, as from every single-factor number."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from robostress.metrics.paired import paired_groups, pairs, split
from robostress.metrics.records import Cell, PairedCell
from robostress.metrics.serial import Record
from robostress.metrics.stats import BOOTSTRAP_RESAMPLES
from robostress.metrics.summary import cell
from robostress.scoring.prediction import Prediction
from robostress.seeding import derive_seed


@dataclass(frozen=True)
class EnvironmentRow(Record):
    """One environment's clean accuracy and paired drops."""

    environment: str
    n_scenes: int
    """Scenes of this environment among the predictions."""
    clean: Cell
    """The clean items."""
    paired_by_dimension: Mapping[str, PairedCell]
    """Stressed items against their clean twins, per dimension."""


def by_environment(preds: Sequence[Prediction], env_of: Mapping[str, str], seed: int = 0,
                   resamples: int = BOOTSTRAP_RESAMPLES) -> list[EnvironmentRow]:
    """One row per environment of ``env_of`` (scene id -> environment) that the predictions
    reach, in name order; scenes without an environment are left out."""
    single = [p for p in preds if p.factor_item_ids is None and p.scene_id in env_of]
    rows = []
    for env, ps in sorted(split(single, lambda p: env_of[p.scene_id]).items()):
        s = derive_seed(seed, "environment", env)
        rows.append(EnvironmentRow(
            environment=env, n_scenes=len({p.scene_id for p in ps}),
            clean=cell([p for p in ps if p.severity == 0], derive_seed(s, "clean"), resamples),
            paired_by_dimension=paired_groups(pairs(ps), ("dimension",), s, resamples)))
    return rows
