"""The stress interface: one registered pure function per sub-type, severities as a table.

A stress takes a clean ScenePlan, the physical parameters of one severity row and a seeded
generator, and returns the stressed twin. Severity 0 is always the clean plan itself.
Each spec names the realised measure (computed from the rendered frame by
``robostress.stress.measures``) and the direction that measure moves as severity rises.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from robostress.core.records import MAX_SEVERITY, StressRecord
from robostress.errors import ConfigError, StressNotApplicable
from robostress.registry import Registry
from robostress.scene.collision import robot_collides
from robostress.scene.plan import ScenePlan
from robostress.seeding import rng

Dimension = Literal["material", "lighting", "viewpoint", "geometry"]
DIMENSIONS: tuple[str, ...] = ("material", "lighting", "viewpoint", "geometry")

StressFn = Callable[[ScenePlan, Mapping[str, Any], np.random.Generator], ScenePlan]


@dataclass(frozen=True)
class StressSpec:
    """A registered stress sub-type."""

    dimension: str
    subtype: str
    severities: tuple[Mapping[str, Any], ...]  # rows 1..5 (index 0 = severity 1)
    measure: str  # name of the realised measure in robostress.stress.measures
    direction: int  # +1: measure rises with severity, -1: falls
    fn: StressFn
    doc: str = ""

    def params(self, severity: int) -> dict[str, Any]:
        """Physical parameters of ``severity`` (empty for the clean twin)."""
        check_severity(severity)
        return {} if severity == 0 else dict(self.severities[severity - 1])


STRESSES: Registry[StressSpec] = Registry("stress sub-type")


def stress(dimension: str, subtype: str, *, severities: list[dict[str, Any]], measure: str,
           direction: int) -> Callable[[StressFn], StressFn]:
    """Decorator registering a stress function for ``dimension/subtype``."""
    if len(severities) != MAX_SEVERITY:
        raise ValueError(f"{subtype}: need {MAX_SEVERITY} severity rows, got {len(severities)}")

    def deco(fn: StressFn) -> StressFn:
        STRESSES.add(subtype, StressSpec(dimension, subtype, tuple(severities), measure,
                                         direction, fn, (fn.__doc__ or "").strip()))
        return fn

    return deco


def check_severity(severity: int) -> None:
    """ConfigError unless 0 <= severity <= MAX_SEVERITY."""
    if not isinstance(severity, int) or not 0 <= severity <= MAX_SEVERITY:
        raise ConfigError(f"severity must be an integer in 0..{MAX_SEVERITY}, got {severity!r}")


def get_stress(subtype: str) -> StressSpec:
    """The registered spec of ``subtype`` (ConfigError listing sub-types if unknown)."""
    return STRESSES.get(subtype)


def all_stresses() -> list[StressSpec]:
    """All registered specs, in taxonomy order (dimension order, then registration order)."""
    specs = [STRESSES.get(n) for n in STRESSES.names()]
    return sorted(specs, key=lambda s: DIMENSIONS.index(s.dimension))


def apply_stress(plan: ScenePlan, subtype: str, severity: int) -> tuple[ScenePlan, StressRecord]:
    """Apply ``subtype`` at ``severity`` to a clean plan.

    Returns the stressed plan and its record. If the stress cannot be realised in this scene,
    the clean plan is returned with ``record.skipped`` set to the reason.
    """
    spec = get_stress(subtype)
    params = spec.params(severity)
    record = StressRecord(dimension=spec.dimension, subtype=subtype, severity=severity,
                          params=params, measure=spec.measure)
    if severity == 0:
        return plan, record
    try:
        # One generator per (scene, sub-type), not per severity: random choices (which side to
        # orbit, which distractors) stay the same across severities, so severities are nested.
        out = spec.fn(plan, params, rng(plan.seed, plan.scene_id, subtype))
        _check_robot_clear(plan, out)
    except StressNotApplicable as e:
        return plan, record.model_copy(update={"skipped": e.reason})
    return out, record


def _check_robot_clear(clean: ScenePlan, out: ScenePlan) -> None:
    """A stress that adds, moves or reshapes objects must not push them into the robot arm."""
    if out.robot is None:
        return

    before = {o.id: o for o in clean.objects}
    changed = [o for o in out.objects if before.get(o.id) != o]
    if changed and robot_collides(out.robot, changed, 0.0):
        raise StressNotApplicable("the stressed layout would intersect the robot arm")
