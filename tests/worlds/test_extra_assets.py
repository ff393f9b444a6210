"""The extra asset catalog (issue 24): 30 categories in the new families, 20+ of them with two or
more instances, multi-mesh objects merged; the object catalog the lab reads is unchanged."""

from __future__ import annotations

from collections import Counter

import pytest

from robostress.scene import assets as A
from robostress.scene.assets import asset_catalog, extra_catalog, full_catalog, load_asset
from robostress.scene.catalogue import catalogue_object
from robostress.scene.containers import can_hold, is_container
from robostress.scene.family import family_catalog, load_family
from robostress.scene.objects import get_category
from robostress.scene.sample import sample_scene

pytestmark = pytest.mark.skipif(not A.assets_available(), reason="asset packages not installed")


def test_object_catalog_is_the_labs_own() -> None:
    """The catalog that questions, stresses and manifests enumerate holds what it held before."""
    cat = asset_catalog()
    assert len(cat.categories) == 20 and len(cat.assets) == 39
    assert not set(extra_catalog().assets) & set(cat.assets)
    assert family_catalog(load_family("lab_tabletop")) is cat


@pytest.mark.parametrize("family", ["kitchen", "study", "household"])
def test_new_families_have_30_categories_20_with_two_instances(family: str) -> None:
    spec = load_family(family)
    cat = family_catalog(spec)
    assert set(spec.categories) <= set(cat.categories) and len(spec.categories) >= 30
    per = Counter(a.category for a in cat.assets.values() if a.category in spec.categories)
    assert sum(n >= 2 for n in per.values()) >= 20
    assert cat is full_catalog()


def test_multi_mesh_objects_merge_their_parts() -> None:
    moka = load_asset("moka_pot")
    bottle = load_asset("wine_bottle")
    assert 0.12 < moka.size[2] < 0.2 and 0.12 < bottle.size[2] < 0.2  # upright, real sizes
    assert moka.texture.shape[1] == 2 * moka.texture.shape[0]  # body and handle tiles
    assert bottle.texture.shape[1] == 3 * bottle.texture.shape[0]  # glass, cork, label
    assert moka.provenance["licence"].startswith("MIT")


def test_extra_categories_resolve_everywhere() -> None:
    for c in extra_catalog().categories:
        spec = get_category(c)
        assert spec.name == c and min(spec.nominal_size) > 0.01
        can_hold(c)
    drainer = catalogue_object("bowl_drainer")
    assert is_container(drainer) and not is_container(catalogue_object("moka_pot"))


def test_new_families_draw_extra_objects() -> None:
    plans = [sample_scene("household", 0, i) for i in range(6)]
    extra = extra_catalog().assets
    assert sum(o.asset in extra for p in plans for o in p.objects) >= 3
