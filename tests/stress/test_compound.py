"""Compound stresses: composed from the clean plan, pure over both dimensions, skipped with a reason
where the pair cannot be realised, and a Latin-square design that rotates sub-type pairs over scenes."""

from __future__ import annotations

from collections import Counter

import pytest

from robostress.core.records import StressRecord
from robostress.errors import ConfigError
from robostress.scene.sample import sample_scene
from robostress.stress import (
    DIMENSION_PAIRS,
    CompoundDesign,
    all_stresses,
    apply_compound,
    apply_stress,
)
from robostress.stress.base import DIMENSIONS
from robostress.stress.purity import changed_paths, check_purity

SCENES = [sample_scene("tabletop", 0, i) for i in range(2)]
DESIGN = CompoundDesign.from_config(severities=[[2, 4], [4, 2]])
BY_DIM = {d: [s.subtype for s in all_stresses() if s.dimension == d] for d in DIMENSIONS}


def _check_pure(plan, a, b):  # type: ignore[no-untyped-def]
    out, rec = apply_compound(plan, a, b)
    if rec.skipped is not None:
        assert out is plan and rec.skipped.split(" s")[0] in (a[0], b[0])
        return False
    assert check_purity(rec.dimension, plan, out) == [], rec.subtype
    da, db = rec.dimension.split("+")
    changed = changed_paths(plan, out)
    assert check_purity(da, plan, out) and check_purity(db, plan, out), "each factor changed something"
    assert changed, rec.subtype
    return True


def test_six_dimension_pairs_in_taxonomy_order() -> None:
    assert len(DIMENSION_PAIRS) == 6
    assert all(DIMENSIONS.index(a) < DIMENSIONS.index(b) for a, b in DIMENSION_PAIRS)


@pytest.mark.parametrize("pair", DIMENSION_PAIRS, ids="+".join)
def test_every_dimension_pair_is_pure_on_real_plans(pair: tuple[str, str]) -> None:
    realised = 0
    for ordinal in range(4):  # four sub-type pairs of the rotation, both severity pairs, two scenes
        for (ta, sa), (tb, sb) in DESIGN.jobs(ordinal)[2 * DIMENSION_PAIRS.index(pair):][:2]:
            assert (ta, tb) == DESIGN.subtype_pair(*pair, ordinal)
            for plan in SCENES:
                before = plan.to_json()
                realised += _check_pure(plan, (ta, sa), (tb, sb))
                assert plan.to_json() == before, "the clean plan was mutated"
    assert realised >= 12, f"{pair}: only {realised} of 16 compounds realised"


@pytest.mark.slow
def test_every_subtype_pair_is_pure() -> None:
    n = 0
    for a, b in DIMENSION_PAIRS:
        for ta in BY_DIM[a]:
            for tb in BY_DIM[b]:
                n += _check_pure(SCENES[0], (ta, 3), (tb, 3))
    assert n >= 90  # of 95


def test_compound_record_names_both_factors_in_taxonomy_order_whatever_the_argument_order() -> None:
    plan = SCENES[0]
    out, rec = apply_compound(plan, ("small_scale", 4), ("dark_absorptive", 2))
    again, rec2 = apply_compound(plan, ("dark_absorptive", 2), ("small_scale", 4))
    assert out.to_json() == again.to_json() and rec == rec2
    assert (rec.dimension, rec.subtype, rec.severity) == ("material+viewpoint", "dark_absorptive+small_scale", 4)
    assert rec.factors is not None and [(f.subtype, f.severity) for f in rec.factors] == [
        ("dark_absorptive", 2), ("small_scale", 4)]
    assert rec.factors[0].params == apply_stress(plan, "dark_absorptive", 2)[1].params
    assert StressRecord.model_validate(rec.model_dump(mode="json")) == rec


def test_independent_factors_compose_to_the_union_of_their_single_changes() -> None:
    plan = SCENES[0]
    out, rec = apply_compound(plan, ("complex_texture", 3), ("global_underexposure", 3))
    mat, _ = apply_stress(plan, "complex_texture", 3)
    light, _ = apply_stress(plan, "global_underexposure", 3)
    assert out.objects == mat.objects and out.lights == light.lights
    assert changed_paths(plan, out) == changed_paths(plan, mat) | changed_paths(plan, light)


def test_the_camera_moves_first_and_the_layout_follows_it() -> None:
    plan = SCENES[0]
    out, rec = apply_compound(plan, ("occlusion", 3), ("extreme_viewpoint", 3))
    assert rec.skipped is None
    alone, _ = apply_stress(plan, "occlusion", 3)
    moved, _ = apply_stress(plan, "extreme_viewpoint", 3)
    assert out.camera == moved.camera
    occ = [o for o in out.objects if o.role == "occluder"]
    assert occ and occ != [o for o in alone.objects if o.role == "occluder"], "the occluder stands for the new camera"


def test_a_pair_that_cannot_be_realised_is_skipped_with_its_reason() -> None:
    plan = SCENES[0]
    # seen from farther away, no place out of the frame is left for the caster of a deep shadow
    out, rec = apply_compound(plan, ("local_underexposure", 5), ("small_scale", 5))
    assert out is plan and rec.skipped is not None
    assert rec.skipped.startswith("local_underexposure s5: no out-of-frame position")
    assert apply_stress(plan, "local_underexposure", 5)[1].skipped is None  # alone it is realised
    assert rec.factors is not None and rec.dimension == "lighting+viewpoint"


@pytest.mark.parametrize("a,b,msg", [
    (("dark_absorptive", 2), ("transparent", 2), "both material"),
    (("dark_absorptive", 0), ("small_scale", 2), "must be in 1..5"),
    (("fog", 2), ("small_scale", 2), "fog"),
])
def test_bad_compounds_are_config_errors(a, b, msg) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=msg):
        apply_compound(SCENES[0], a, b)


def test_the_latin_square_takes_every_subtype_pair_once_per_cycle() -> None:
    for a, b in DIMENSION_PAIRS:
        n = len(BY_DIM[a]) * len(BY_DIM[b])
        for start in (0, 7):
            got = Counter(DESIGN.subtype_pair(a, b, i) for i in range(start, start + n))
            assert len(got) == n and set(got.values()) == {1}, (a, b)
        rows = Counter(DESIGN.subtype_pair(a, b, i)[0] for i in range(len(BY_DIM[a])))
        assert set(rows.values()) == {1}, "consecutive scenes take different A sub-types"
    other = CompoundDesign.from_config(seed=1)
    assert [other.subtype_pair(*p, 0) for p in DIMENSION_PAIRS] != [DESIGN.subtype_pair(*p, 0) for p in DIMENSION_PAIRS]
    assert len(DESIGN.jobs(0)) == DESIGN.frames_per_scene() == 12


def test_a_design_on_some_subtypes_pairs_only_those() -> None:
    d = CompoundDesign.from_config(pairs=[["viewpoint", "lighting"]], subtypes=["global_underexposure", "small_scale",
                                                                               "occlusion"])
    assert d.pairs == (("lighting", "viewpoint"),)
    assert d.jobs(3) == [(("global_underexposure", 3), ("small_scale", 3))]
    assert d.needed_severities() == {3}


@pytest.mark.parametrize("kw,msg", [
    ({"pairs": [["lighting", "lighting"]]}, "two different dimensions"),
    ({"pairs": [["lighting", "weather"]]}, "two different dimensions"),
    ({"severities": [[3]]}, "severity pair"),
    ({"severities": [[3, 6]]}, "severity pair"),
    ({"severities": []}, "at least one"),
    ({"pairs": [["material", "lighting"]], "subtypes": ["small_scale"]}, "no material sub-type"),
])
def test_bad_designs_are_config_errors(kw, msg) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=msg):
        CompoundDesign.from_config(**kw)


def test_the_design_names_an_unknown_sub_type_first_and_reads_one_name_as_one() -> None:
    from robostress.stress.compound import CompoundDesign

    with pytest.raises(ConfigError, match="unknown stress sub-type 'fog'"):
        CompoundDesign.from_config("all", subtypes=["occlusion", "fog"])
    with pytest.raises(ConfigError, match="no dimension pair to build"):  # not its letters
        CompoundDesign.from_config("all", subtypes="occlusion")
