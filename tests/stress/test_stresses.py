"""Every sub-type: pure (touches only its dimension's fields), valid, and renders at every severity."""

from __future__ import annotations

import pytest

from robostress.errors import ConfigError
from robostress.scene.collision import robot_collides
from robostress.scene.sample import sample_scene
from robostress.stress.base import DIMENSIONS, all_stresses, apply_stress, get_stress
from robostress.stress.purity import changed_paths, check_purity

SPECS = all_stresses()
SCENES = [sample_scene(f, s, 0) for f in ("tabletop", "kitchen_shelf", "lab_tabletop") for s in range(4)]


def test_sixteen_subtypes_in_taxonomy_order() -> None:
    assert len(SPECS) == 16
    dims = [s.dimension for s in SPECS]
    assert dims == sorted(dims, key=DIMENSIONS.index)
    assert {s.dimension for s in SPECS} == set(DIMENSIONS)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.subtype)
@pytest.mark.slow
def test_purity_for_every_severity_and_scene(spec) -> None:  # type: ignore[no-untyped-def]
    realised = 0
    for plan in SCENES:
        before = plan.to_json()
        for sev in range(1, 6):
            out, rec = apply_stress(plan, spec.subtype, sev)
            assert plan.to_json() == before, "the clean plan was mutated"
            if rec.skipped:
                assert out is plan and len(rec.skipped) > 10
                continue
            realised += 1
            assert changed_paths(plan, out), f"{spec.subtype} s{sev} changed nothing"
            assert check_purity(spec.dimension, plan, out) == []
            again, _ = apply_stress(plan, spec.subtype, sev)
            assert again.to_json() == out.to_json(), "same seed must give the same stressed plan"
            if out.robot is not None:  # nothing a stress adds or moves may enter the robot arm
                assert not robot_collides(out.robot, out.objects, 0.0), f"{spec.subtype} s{sev} hits the robot"
            for other in DIMENSIONS:
                if other != spec.dimension:
                    assert check_purity(other, plan, out), "purity check cannot tell dimensions apart"
    assert realised >= 0.6 * 5 * len(SCENES), f"{spec.subtype} is skipped too often"


def test_severity_tables_are_monotonic_in_their_parameter() -> None:
    for spec in SPECS:
        rows = [spec.params(s) for s in range(1, 6)]
        for key in rows[0]:
            vals = [r[key] for r in rows]
            assert vals == sorted(vals) or vals == sorted(vals, reverse=True), (spec.subtype, key)
            assert len(set(vals)) == 5, (spec.subtype, key)
        assert spec.params(0) == {}


@pytest.mark.parametrize("bad", [-1, 6, 2.5, "3"])
def test_severity_outside_range_is_a_config_error(bad: object) -> None:
    with pytest.raises(ConfigError, match="severity must be an integer in 0..5"):
        apply_stress(SCENES[0], "global_underexposure", bad)  # type: ignore[arg-type]


def test_unknown_subtype_lists_choices() -> None:
    with pytest.raises(ConfigError, match="unknown stress sub-type 'fog'.*dark_absorptive"):
        get_stress("fog")
