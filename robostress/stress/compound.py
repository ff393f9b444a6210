"""Compound stresses: two sub-types of two different dimensions at once, each at its own severity.

A compound is composed from the clean plan by applying its two registered single-factor stresses
one after the other, the second to the first's output, in ``COMPOSE_ORDER``: the camera first
(occluders, casters and highlights are placed for the camera that will see them), then the
layout (a caster shadows a target where the layout put it), then lights, then materials. Each
stress draws from the same generator as when it is applied alone (``apply_stress`` seeds by
scene and sub-type), so a compound makes the same random choices as its single-factor twins.
Labels and records keep taxonomy order (``DIMENSIONS``) whatever the order of application.

``CompoundDesign`` says which compounds a benchmark builds: which dimension pairs, which
severity pairs, and which sub-type pair each scene gets, rotated over scenes as a Latin square.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from robostress.core.records import COMPOUND_JOIN, MAX_SEVERITY, StressRecord
from robostress.errors import ConfigError
from robostress.scene.plan import ScenePlan
from robostress.seeding import derive_seed
from robostress.stress.base import DIMENSIONS, all_stresses, apply_stress, get_stress

COMPOSE_ORDER: tuple[str, ...] = ("viewpoint", "geometry", "lighting", "material")
DIMENSION_PAIRS: tuple[tuple[str, str], ...] = tuple(combinations(DIMENSIONS, 2))  # taxonomy order

Factor = tuple[str, int]  # (sub-type, severity)


def compound_record(a: StressRecord, b: StressRecord, skipped: str | None = None) -> StressRecord:
    """The record of the compound of single-factor records ``a`` and ``b`` (any order)."""
    a, b = sorted((a, b), key=lambda r: DIMENSIONS.index(r.dimension))
    return StressRecord(dimension=f"{a.dimension}{COMPOUND_JOIN}{b.dimension}",
                        subtype=f"{a.subtype}{COMPOUND_JOIN}{b.subtype}", severity=max(a.severity, b.severity),
                        factors=(a, b), skipped=skipped)


def apply_compound(clean: ScenePlan, first: Factor, second: Factor) -> tuple[ScenePlan, StressRecord]:
    """Apply two sub-types of two different dimensions to a clean plan.

    Returns the compound plan and its record (``factors`` in taxonomy order). Where either factor
    cannot be realised (alone, or on the other's output: an occluder for a target the camera no
    longer sees) the clean plan is returned with ``record.skipped`` naming the factor and why.

    Raises:
        ConfigError: unknown sub-types, severities outside 1..5, or two factors of one dimension.
    """
    specs = [get_stress(first[0]), get_stress(second[0])]
    if specs[0].dimension == specs[1].dimension:
        raise ConfigError(f"a compound joins two dimensions; {first[0]} and {second[0]} are both "
                          f"{specs[0].dimension}")
    for sub, sev in (first, second):
        if not isinstance(sev, int) or not 1 <= sev <= MAX_SEVERITY:
            raise ConfigError(f"compound severity of {sub} must be in 1..{MAX_SEVERITY}, got {sev!r}")
    factors = sorted((first, second), key=lambda f: COMPOSE_ORDER.index(get_stress(f[0]).dimension))
    plan, records = clean, []
    for sub, sev in factors:
        plan, rec = apply_stress(plan, sub, sev)
        records.append(rec)
        if rec.skipped is not None:
            return clean, compound_record(*_pad(records, factors), skipped=f"{sub} s{sev}: {rec.skipped}")
    return plan, compound_record(records[0], records[1])


def _pad(records: list[StressRecord], factors: Sequence[Factor]) -> tuple[StressRecord, StressRecord]:
    """Both factor records when the first already failed (the second was never applied)."""
    if len(records) == 2:
        return records[0], records[1]
    sub, sev = factors[1]
    spec = get_stress(sub)
    return records[0], StressRecord(dimension=spec.dimension, subtype=sub, severity=sev,
                                    params=spec.params(sev), measure=spec.measure)


@dataclass(frozen=True)
class CompoundDesign:
    """Which compound frames a benchmark builds (the ``compound:`` block of a benchmark preset).

    Every scene gets, for each dimension pair, ONE sub-type pair, rotated over scenes as a Latin
    square: with the pair's dimensions holding ``nA`` and ``nB`` built sub-types, scene ordinals
    ``i .. i + nA*nB - 1`` take every sub-type pair exactly once, row ``i mod nA`` against column
    ``(i // nA + i mod nA) mod nB``, from a starting offset drawn from ``seed`` and the pair. That
    sub-type pair is built at every severity pair of ``severities``.
    """

    pairs: tuple[tuple[str, str], ...] = DIMENSION_PAIRS  # dimension pairs ('all': those the build spans)
    severities: tuple[tuple[int, int], ...] = ((3, 3),)  # (severity of A, of B)
    seed: int = 0  # seed of the rotation's offsets
    subtypes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # per dimension: sub-types to pair

    @classmethod
    def from_config(cls, pairs: str | Iterable[Sequence[str]] = "all",
                    severities: Iterable[Sequence[int]] = ((3, 3),), seed: int = 0,
                    subtypes: Iterable[str] | str = "all") -> CompoundDesign:
        """A validated design; ConfigError naming the bad value. ``subtypes``: the build's sub-types."""
        known = [s.subtype for s in all_stresses()]
        asked = known if subtypes == "all" else [subtypes] if isinstance(subtypes, str) else list(subtypes)
        for n in asked:  # an unknown name is the first thing wrong, as in the build's own check
            if n not in known:
                raise ConfigError(f"unknown stress sub-type {n!r}; choose from: {', '.join(known)}")
        names = [s for s in known if s in set(asked)]
        by_dim = {d: tuple(s for s in names if get_stress(s).dimension == d) for d in DIMENSIONS}
        if pairs == "all":  # every pair the build's sub-types allow
            want = tuple(p for p in DIMENSION_PAIRS if by_dim[p[0]] and by_dim[p[1]])
        else:
            want = tuple(_pair(p) for p in pairs)  # type: ignore[union-attr]
        for a, b in want:
            for d in (a, b):
                if not by_dim[d]:
                    raise ConfigError(f"compound pair {a}+{b}: the build has no {d} sub-type")
        if not want:
            raise ConfigError("compound: no dimension pair to build (the build's sub-types span one dimension)")
        sev = tuple(_severity_pair(s) for s in severities)
        if not sev:
            raise ConfigError("compound.severities needs at least one [severity of A, severity of B] pair")
        return cls(pairs=want, severities=sev, seed=int(seed), subtypes=by_dim)

    def needed_severities(self) -> set[int]:
        """Single-factor severities the compounds need as twins (the build must hold them)."""
        return {s for p in self.severities for s in p}

    def subtype_pair(self, a: str, b: str, ordinal: int) -> tuple[str, str]:
        """The sub-type pair of dimensions ``a`` x ``b`` at scene ``ordinal`` (Latin-square rotation)."""
        sa, sb = self.subtypes[a], self.subtypes[b]
        i = ordinal + derive_seed(self.seed, "compound", a, b) % (len(sa) * len(sb))
        row = i % len(sa)
        return sa[row], sb[(i // len(sa) + row) % len(sb)]

    def jobs(self, ordinal: int) -> list[tuple[Factor, Factor]]:
        """((sub-type A, severity A), (sub-type B, severity B)) of every compound of scene ``ordinal``."""
        out = []
        for a, b in self.pairs:
            ta, tb = self.subtype_pair(a, b, ordinal)
            out += [((ta, sa), (tb, sb)) for sa, sb in self.severities]
        return out

    def frames_per_scene(self) -> int:
        """Compound frames each scene adds (before skips)."""
        return len(self.pairs) * len(self.severities)

    def describe(self) -> dict[str, object]:
        """The design as the manifest records it."""
        return {"pairs": [list(p) for p in self.pairs], "severities": [list(s) for s in self.severities],
                "seed": self.seed, "compose_order": list(COMPOSE_ORDER)}


def _pair(p: Sequence[str]) -> tuple[str, str]:
    if isinstance(p, str) or len(p) != 2 or any(d not in DIMENSIONS for d in p) or p[0] == p[1]:
        raise ConfigError(f"compound pair {p!r}: give two different dimensions of {', '.join(DIMENSIONS)}")
    a, b = sorted(p, key=DIMENSIONS.index)
    return a, b


def _severity_pair(s: Sequence[int]) -> tuple[int, int]:
    if isinstance(s, str | int) or len(s) != 2 or any(
            isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_SEVERITY for v in s):
        raise ConfigError(f"compound severity pair {s!r}: give [severity of A, severity of B], each in 1..{MAX_SEVERITY}")
    return int(s[0]), int(s[1])
