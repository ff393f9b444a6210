"""Real assets as scene objects: their materials, natural sizes and what they can carry."""

from __future__ import annotations

from robostress.scene.assets import AssetCatalog, asset_catalog, asset_spec, load_asset
from robostress.scene.objects import get_category
from robostress.scene.plan import Material, SceneObject

NO_COLOUR = "multicolour"  # colour name of a real object with no single dominant colour (never asked)


CARRIER_MIN_AREA = 0.008  # m^2: top of a flat asset that something else fits on


MULTIPLE_MAX_AREA = 0.015  # m^2: footprint of a category that may appear several times


def carries(category: str, size: tuple[float, ...]) -> bool:
    """Whether an object of ``category`` and footprint ``size`` has a flat top large enough to
    carry another object (the kind stacks are built on)."""
    return get_category(category).flat_top and size[0] * size[1] >= CARRIER_MIN_AREA


def small_footprint(size: tuple[float, ...]) -> bool:
    """Whether a footprint is small enough for a category placed several times (and for the top
    of a stack)."""
    return size[0] * size[1] < MULTIPLE_MAX_AREA


def is_carrier(asset_id: str) -> bool:
    """Whether a real asset has a flat top large enough to carry another object."""
    return carries(asset_spec(asset_id).category, load_asset(asset_id).size)


def asset_material(asset_id: str) -> Material:
    """The material of a real asset: its texture, its mean albedo and its colour name."""
    return Material(color_name=asset_spec(asset_id).color or NO_COLOUR, rgb=load_asset(asset_id).mean_rgb,
                    texture_map=f"asset:{asset_id}")


def catalogue_object(asset_id: str) -> SceneObject:
    """A real asset as it comes from the catalogue: its own material and natural size, upright at
    the origin on the table (to ask what would fit on or in it, or how questions would name it)."""
    return SceneObject(id=asset_id, category=asset_spec(asset_id).category, material=asset_material(asset_id),
                       asset=asset_id, position=(0.0, 0.0, 0.0), size=load_asset(asset_id).size, support_id="table")


_CATALOGUE: list[tuple[AssetCatalog, tuple[SceneObject, ...]]] = []  # (a catalog read, its objects), newest last
_KEEP = 4  # catalogs remembered: the object catalog and the full one (``family_catalog``), and a re-read of each


def catalogue_objects(cat: AssetCatalog | None = None) -> tuple[SceneObject, ...]:
    """Every asset of ``cat`` (the object catalog if None; a family's is ``family_catalog``) as
    ``catalogue_object`` gives it, in asset-id order; built once per read of the catalog (a
    changed catalog file is read anew by ``asset_catalog``)."""
    cat = asset_catalog() if cat is None else cat
    hit = next((objs for c, objs in _CATALOGUE if c is cat), None)
    if hit is None:
        hit = tuple(catalogue_object(a) for a in sorted(cat.assets))
        _CATALOGUE[:] = [*_CATALOGUE[-(_KEEP - 1):], (cat, hit)]
    return hit
