"""The visual parts of a multi-mesh MJCF object (a moka pot's body and handle, a wine bottle's
glass, cork and label): each visual geom's mesh file and scale, its pose in the object, and its
material's texture file or flat colour. Read as plain XML; MuJoCo is not needed."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from robostress.errors import DataError


@dataclass(frozen=True)
class VisualPart:
    """One visual geom of an MJCF object."""

    mesh: Path  # MuJoCo .msh file
    scale: np.ndarray  # (3,) mesh scale
    pos: np.ndarray  # (3,) geom position in the object frame
    rot: np.ndarray  # (3, 3) geom rotation in the object frame
    texture: Path | None  # its material's texture image (None: a flat colour)
    rgba: tuple[float, float, float, float]  # its material's colour (used without a texture)


def _floats(text: str | None, default: list[float]) -> np.ndarray:
    return np.array([float(x) for x in text.split()]) if text else np.array(default, float)


def quat_matrix(q: np.ndarray) -> np.ndarray:
    """Rotation matrix of a MuJoCo quaternion (w, x, y, z), normalised."""
    w, x, y, z = q / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def axis_rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotation matrix of ``angle`` radians about the unit vector ``axis`` (Rodrigues)."""
    k = axis / np.linalg.norm(axis)
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(angle) * kx + (1 - np.cos(angle)) * kx @ kx


def visual_parts(xml: Path, root: Path, qpos: Mapping[str, float] | None = None) -> list[VisualPart]:
    """The visual mesh geoms (``contype="0"`` or ``group="1"``) of an MJCF object, in file order.

    Files are resolved beside the MJCF and must lie inside ``root`` (the package's asset folder).
    Nested bodies' poses (pos, quat) are composed; a joint named in ``qpos`` moves its body (a
    slide joint along its axis by qpos metres, a hinge about its axis by qpos radians); every other
    joint stays at zero (a drawer or door closed).
    """
    qpos = dict(qpos or {})
    known: set[str] = set()
    try:
        tree = ET.parse(xml)
    except ET.ParseError as e:
        raise DataError(f"{xml}: not valid MJCF XML ({e})") from None
    asset = tree.find("asset")
    if asset is None:
        raise DataError(f"{xml}: no <asset> section")

    def file(name: str | None) -> Path:
        p = (xml.parent / str(name)).resolve()
        if not p.is_relative_to(root.resolve()) or not p.is_file():
            raise DataError(f"{xml}: referenced file {p} is missing")
        return p

    meshes = {m.get("name"): (file(m.get("file")), _floats(m.get("scale"), [1, 1, 1])) for m in asset.iter("mesh")}
    textures = {t.get("name"): file(t.get("file")) for t in asset.iter("texture") if t.get("file")}
    materials = {m.get("name"): (m.get("texture"), _floats(m.get("rgba"), [1, 1, 1, 1])) for m in asset.iter("material")}
    parts: list[VisualPart] = []

    def walk(body: ET.Element, rot: np.ndarray, pos: np.ndarray) -> None:
        if body.get("euler") or body.get("axisangle") or body.get("xyaxes") or body.get("zaxis"):
            raise DataError(f"{xml}: a body oriented other than by quat is not supported")
        pos = pos + rot @ _floats(body.get("pos"), [0, 0, 0])
        rot = rot @ quat_matrix(_floats(body.get("quat"), [1, 0, 0, 0]))
        for j in body.findall("joint"):
            known.add(str(j.get("name")))
            q = qpos.get(str(j.get("name")), 0.0)
            axis = rot @ _floats(j.get("axis"), [0, 0, 1])
            if j.get("type") == "slide":
                pos = pos + axis * q
            elif j.get("type", "hinge") == "hinge" and q:
                turn = axis_rotation(axis, q)
                pivot = pos + rot @ _floats(j.get("pos"), [0, 0, 0])
                pos, rot = pivot + turn @ (pos - pivot), turn @ rot
        for g in body.findall("geom"):
            if g.get("type") != "mesh" or not (g.get("contype") == "0" or g.get("group") == "1"):
                continue
            mesh, scale = meshes[g.get("mesh")]
            tex_name, rgba = materials.get(g.get("material"), (None, np.ones(4)))
            parts.append(VisualPart(mesh=mesh, scale=scale, pos=pos + rot @ _floats(g.get("pos"), [0, 0, 0]),
                                    rot=rot @ quat_matrix(_floats(g.get("quat"), [1, 0, 0, 0])),
                                    texture=textures.get(tex_name) if tex_name else None,
                                    rgba=(float(rgba[0]), float(rgba[1]), float(rgba[2]), float(rgba[3]))))
        for child in body.findall("body"):
            walk(child, rot, pos)

    world = tree.find("worldbody")
    for top in world.findall("body") if world is not None else []:
        walk(top, np.eye(3), np.zeros(3))
    if not parts:
        raise DataError(f"{xml}: no visual mesh geoms")
    if set(qpos) - known:
        raise DataError(f"{xml}: no joint(s) {sorted(set(qpos) - known)} to pose")
    return parts
