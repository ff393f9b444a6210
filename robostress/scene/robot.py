"""A posed Franka Panda arm with its parallel-jaw gripper, from robosuite's MJCF assets.

MuJoCo does the kinematics: robosuite's ``robots/panda/robot.xml`` and
``grippers/panda_gripper.xml`` are combined with ``MjSpec.attach`` at the arm's ``right_hand``
body (where robosuite's ``add_gripper`` merges the gripper), compiled once per process, and
posed with ``mj_kinematics``. robosuite itself is never imported (its import pulls in a
heavy stack and prints warnings); only its asset files are read.

Every world point here is ``base_rotation @ p + base_position`` of a point ``p`` in the
compiled model's frame, whose origin is the base: the base pose lives outside the model so
that one cached model serves every robot.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from robostress.errors import ConfigError
from robostress.scene.assets import simplify
from robostress.scene.plan import PANDA_HOME, Robot, Vec3

_ARM_XML = "robots/panda/robot.xml"
_GRIPPER_XML = "grippers/panda_gripper.xml"
_ATTACH_BODY = "right_hand"  # robosuite's Panda ``eef_name``: the flange the gripper mounts on
_PREFIX = "gripper0_"  # robosuite's naming of the first gripper's elements
_ARM_JOINTS = tuple(f"joint{i}" for i in range(1, 8))
_FINGER_JOINTS = (_PREFIX + "finger_joint1", _PREFIX + "finger_joint2")
_HAND_BODY = _PREFIX + "right_gripper"
_PART_NAMES = {_HAND_BODY: "hand", _PREFIX + "leftfinger": "finger_left",
               _PREFIX + "rightfinger": "finger_right"}
_VISUAL_GROUP = 1
_DOWN = np.array([0.0, 0.0, -1.0])
_INSTALL_HINT = "pip install mujoco && pip install --no-deps robosuite==1.5.2"


@dataclass(frozen=True)
class RobotPart:
    """One rigid, single-colour piece of the robot as a world-space triangle mesh.

    Has the ``vertices``/``faces``/``uv`` attributes that ``render.mitsuba_scene.mesh_shape``
    reads.
    """

    name: str  # body name plus a colour index when a body has several colours: "link3", "link3_1"
    vertices: np.ndarray  # (N, 3) float32, world frame, metres
    faces: np.ndarray  # (M, 3) uint32
    rgb: tuple[float, float, float]  # albedo from the MJCF material or geom rgba
    uv: np.ndarray | None = None  # the MJCF meshes carry no texture coordinates we use
    normals: np.ndarray | None = None  # flat shading: MuJoCo's normals are per face corner


@dataclass(frozen=True)
class RobotBox:
    """An oriented box bounding one body's visual meshes (a conservative collision proxy)."""

    name: str
    center: np.ndarray  # (3,) world
    rotation: np.ndarray  # (3, 3) world, columns are the box axes
    half_size: np.ndarray  # (3,) half extents along the box axes


@dataclass(frozen=True)
class _Group:
    """The visual geoms of one body that share a colour, merged in the body frame."""

    name: str
    body: int
    vertices: np.ndarray  # (N, 3) float32, body frame
    faces: np.ndarray
    rgb: tuple[float, float, float]


@dataclass(frozen=True)
class _Panda:
    """The compiled model, a scratch MjData, and what is derived from the model once."""

    model: Any
    data: Any
    groups: tuple[_Group, ...]
    arm_qpos: np.ndarray  # qpos addresses of joint1..joint7
    arm_dofs: np.ndarray  # dof addresses of joint1..joint7
    finger_qpos: np.ndarray  # qpos addresses of the two finger slides
    limits: np.ndarray  # (7, 2) joint ranges, radians
    hand: int  # body id of the gripper's palm
    tip: np.ndarray  # fingertip centre in the palm frame
    boxes: tuple[tuple[str, int, np.ndarray, np.ndarray], ...]  # (name, body, centre, half) body frame


def _mujoco() -> Any:
    try:
        import mujoco
    except ImportError as e:
        raise ConfigError(f"the robot arm needs MuJoCo: {_INSTALL_HINT}") from e
    return mujoco


def _asset_root() -> Path:
    spec = importlib.util.find_spec("robosuite")  # locating the package does not import it
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"the robot arm needs robosuite's asset files: {_INSTALL_HINT}")
    return Path(list(spec.submodule_search_locations)[0]) / "models" / "assets"


@lru_cache(maxsize=1)
def _panda() -> _Panda:
    """Compile arm + gripper once per process (about half a second).

    The one MjData is scratch space for every call, so posing is not thread-safe.
    """
    mj = _mujoco()
    root = _asset_root()
    arm = mj.MjSpec.from_file(str(root / _ARM_XML))
    gripper = mj.MjSpec.from_file(str(root / _GRIPPER_XML))
    arm.attach(gripper, prefix=_PREFIX, frame=arm.body(_ATTACH_BODY).add_frame())
    model = arm.compile()
    data = mj.MjData(model)
    mj.mj_kinematics(model, data)  # all joints at 0: fingers closed, for measuring the tips
    groups = _visual_groups(model)
    hand = model.body(_HAND_BODY).id
    return _Panda(
        model=model, data=data, groups=groups,
        arm_qpos=np.array([model.joint(j).qposadr[0] for j in _ARM_JOINTS]),
        arm_dofs=np.array([model.joint(j).dofadr[0] for j in _ARM_JOINTS]),
        finger_qpos=np.array([model.joint(j).qposadr[0] for j in _FINGER_JOINTS]),
        limits=np.array([model.joint(j).range for j in _ARM_JOINTS], dtype=float),
        hand=hand, tip=_fingertip_offset(data, groups, hand), boxes=_body_boxes(model, groups))


def _visual_groups(model: Any) -> tuple[_Group, ...]:
    """Visual mesh geoms merged per (body, colour), vertices moved into the body frame."""
    mj = _mujoco()
    merged: dict[tuple[int, tuple[float, float, float]], list[tuple[np.ndarray, np.ndarray]]] = {}
    for g in range(model.ngeom):
        if model.geom_group[g] != _VISUAL_GROUP or model.geom_type[g] != mj.mjtGeom.mjGEOM_MESH:
            continue
        mesh = model.geom_dataid[g]
        v0, nv = model.mesh_vertadr[mesh], model.mesh_vertnum[mesh]
        f0, nf = model.mesh_faceadr[mesh], model.mesh_facenum[mesh]
        rot = np.zeros(9)
        mj.mju_quat2Mat(rot, model.geom_quat[g])
        verts = model.mesh_vert[v0:v0 + nv] @ rot.reshape(3, 3).T + model.geom_pos[g]
        mat = model.geom_matid[g]
        rgba = model.mat_rgba[mat] if mat >= 0 else model.geom_rgba[g]
        r, gr, b = (round(float(c), 4) for c in rgba[:3])  # rounded so equal colours merge
        key = (int(model.geom_bodyid[g]), (r, gr, b))
        merged.setdefault(key, []).append((verts, model.mesh_face[f0:f0 + nf]))
    groups: list[_Group] = []
    seen: dict[str, int] = {}
    for (body, rgb), pieces in merged.items():
        base = _PART_NAMES.get(model.body(body).name, model.body(body).name)
        k = seen[base] = seen.get(base, -1) + 1
        offsets = np.cumsum([0] + [len(v) for v, _ in pieces[:-1]])
        faces = np.concatenate([f + o for (_, f), o in zip(pieces, offsets, strict=True)]).astype(np.uint32)
        verts = np.concatenate([v for v, _ in pieces]).astype(np.float32)
        verts, faces = _simplified(verts, faces)
        faces.flags.writeable = False  # every RobotPart shares these arrays with the cache
        groups.append(_Group(base if k == 0 else f"{base}_{k}", body, verts, faces, rgb))
    return tuple(groups)


ROBOT_CELL = 0.004  # metres: vertex-clustering cell of the render meshes (~10x fewer triangles)


def _simplified(verts: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The part's mesh clustered on a 4 mm grid: invisible at benchmark resolutions, and it
    makes building the Mitsuba meshes of a frame ~10x cheaper."""
    v = verts.astype(np.float64)
    ext = float((v.max(0) - v.min(0)).max()) if len(v) else 0.0
    if ext <= 0:
        return verts, faces
    pos, _, f = simplify(v, np.zeros((len(v), 2)), faces.astype(np.int64),
                         cells=max(4, int(ext / ROBOT_CELL)), uv_cells=1)
    if len(f) < 4:  # a tiny part (a coloured accent): keep it as it is
        return verts, faces
    return pos.astype(np.float32), f.astype(np.uint32)


def _fingertip_offset(data: Any, groups: tuple[_Group, ...], hand: int) -> np.ndarray:
    """The point on the palm axis level with the fingertips, in the palm frame."""
    rot, pos = data.xmat[hand].reshape(3, 3), data.xpos[hand]
    reach = 0.0
    for g in groups:
        if g.name.startswith("finger_"):
            world = g.vertices @ data.xmat[g.body].reshape(3, 3).T + data.xpos[g.body]
            reach = max(reach, float(((world - pos) @ rot[:, 2]).max()))
    return np.array([0.0, 0.0, reach])


def _body_boxes(model: Any, groups: tuple[_Group, ...]) -> tuple[tuple[str, int, np.ndarray, np.ndarray], ...]:
    boxes = []
    for body in sorted({g.body for g in groups}):
        v = np.concatenate([g.vertices for g in groups if g.body == body]).astype(float)
        lo, hi = v.min(0), v.max(0)
        name = _PART_NAMES.get(model.body(body).name, model.body(body).name)
        boxes.append((name, body, (lo + hi) / 2, (hi - lo) / 2))
    return tuple(boxes)


def _base_frame(position: Vec3 | np.ndarray, yaw_deg: float) -> tuple[np.ndarray, np.ndarray]:
    c, s = np.cos(np.radians(yaw_deg)), np.sin(np.radians(yaw_deg))
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]), np.asarray(position, float)


def _pose(p: _Panda, joints: Any, opening: float) -> None:
    """Set the arm joints and finger slides, then run forward kinematics."""
    mj = _mujoco()
    p.data.qpos[p.arm_qpos] = joints
    p.data.qpos[p.finger_qpos] = (opening / 2, -opening / 2)  # the slides move symmetrically
    mj.mj_kinematics(p.model, p.data)


def _check_limits(p: _Panda, joints: Any) -> None:
    q = np.asarray(joints, float)
    bad = np.flatnonzero((q < p.limits[:, 0] - 1e-9) | (q > p.limits[:, 1] + 1e-9))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"joint{i + 1} = {q[i]:.4f} rad is outside Panda's range "
                         f"[{p.limits[i, 0]:.4f}, {p.limits[i, 1]:.4f}]")


def _posed(robot: Robot) -> tuple[_Panda, np.ndarray, np.ndarray]:
    p = _panda()
    _check_limits(p, robot.joints)
    _pose(p, robot.joints, robot.opening)
    rot, pos = _base_frame(robot.position, robot.yaw_deg)
    return p, rot, pos


def robot_parts(robot: Robot) -> tuple[RobotPart, ...]:
    """World-space meshes of every visual geom of the arm and gripper, one part per colour.

    Raises:
        ValueError: a joint angle is outside Panda's range.
        ConfigError: MuJoCo or robosuite's assets are not installed.
    """
    p, base_rot, base_pos = _posed(robot)
    parts = []
    for g in p.groups:
        rot = base_rot @ p.data.xmat[g.body].reshape(3, 3)
        pos = base_rot @ p.data.xpos[g.body] + base_pos
        verts = g.vertices @ rot.T.astype(np.float32) + pos.astype(np.float32)
        parts.append(RobotPart(g.name, verts, g.faces, g.rgb))
    return tuple(parts)


def fingertip_center(robot: Robot) -> np.ndarray:
    """World point midway between the two fingertips (on the gripper axis, level with the tips)."""
    p, base_rot, base_pos = _posed(robot)
    return base_rot @ _tip_local(p) + base_pos


def _tip_local(p: _Panda) -> np.ndarray:
    return p.data.xpos[p.hand] + p.data.xmat[p.hand].reshape(3, 3) @ p.tip


def robot_boxes(robot: Robot) -> tuple[RobotBox, ...]:
    """One world-space oriented box per body, bounding that body's visual meshes."""
    p, base_rot, base_pos = _posed(robot)
    boxes = []
    for name, body, center, half in p.boxes:
        rot = base_rot @ p.data.xmat[body].reshape(3, 3)
        world = base_rot @ (p.data.xpos[body] + p.data.xmat[body].reshape(3, 3) @ center) + base_pos
        boxes.append(RobotBox(name, world, rot, half.copy()))
    return tuple(boxes)


def robot_intersects_box(robot: Robot, center: Vec3, size: Vec3, margin: float = 0.0,
                         exclude: Collection[str] = ()) -> bool:
    """Whether any body box of ``robot`` overlaps an axis-aligned box grown by ``margin``.

    Conservative: the body boxes enclose the meshes, so False means no contact; True may be
    a near miss of up to a few centimetres around the links' bends.

    Args:
        robot: the posed robot.
        center: centre of the axis-aligned box (not the base centre a ``SceneObject`` stores).
        size: full extents of the box along x, y, z.
        margin: clearance added on every side of the box, metres.
        exclude: body names to skip, e.g. ``("link0",)`` when the base stands on the slab tested.
    """
    half = np.asarray(size, float) / 2 + margin
    c = np.asarray(center, float)
    return any(_obb_overlaps_aabb(b, c, half) for b in robot_boxes(robot) if b.name not in exclude)


def _obb_overlaps_aabb(box: RobotBox, center: np.ndarray, half: np.ndarray) -> bool:
    """Separating-axis test over the 15 candidate axes of two boxes."""
    axes_a = box.rotation.T  # rows: the oriented box's axes
    cross = np.cross(axes_a[:, None, :], np.eye(3)[None, :, :]).reshape(9, 3)
    axes = np.concatenate([axes_a, np.eye(3), cross])
    norms = np.linalg.norm(axes, axis=1)
    axes = axes[norms > 1e-9] / norms[norms > 1e-9, None]  # parallel edges give no axis
    r_a = np.abs(axes @ axes_a.T) @ box.half_size
    r_b = np.abs(axes) @ half
    return bool(np.all(np.abs(axes @ (box.center - center)) < r_a + r_b))


def solve_reach(base_xyz: Vec3, base_yaw_deg: float, target_xyz: Vec3, opening: float = 0.06,
                seed: int = 0, tolerance: float = 0.005, attempts: int = 6) -> Robot:
    """A pose whose fingertip centre is at ``target_xyz`` with the fingers pointing straight down.

    Damped least squares on MuJoCo's Jacobians, clamped to the joint limits, with a null-space
    pull towards the home pose so the elbow stays up. The first attempt starts at Panda's home
    pose; later ones from home plus noise drawn from ``seed``, so the result is deterministic.

    Raises:
        ValueError: no attempt came within ``tolerance`` metres (or 2 degrees of tilt).
    """
    p = _panda()
    base_rot, base_pos = _base_frame(base_xyz, base_yaw_deg)
    target = base_rot.T @ (np.asarray(target_xyz, float) - base_pos)  # "down" is the same in both
    rng = np.random.default_rng(seed)
    home = np.asarray(PANDA_HOME, float)
    best = (np.inf, np.inf)
    for attempt in range(attempts):
        start = home if attempt == 0 else np.clip(home + rng.normal(0.0, 0.4, 7), *p.limits.T)
        q, err, tilt = _dls(p, start, target, opening)
        if err <= tolerance and tilt <= np.radians(2.0):
            return Robot.model_validate({"position": [float(x) for x in base_xyz], "opening": opening,
                                         "yaw_deg": float(base_yaw_deg), "joints": q.tolist()})
        best = min(best, (err, tilt))
    raise ValueError(f"the Panda at {tuple(base_xyz)} (yaw {base_yaw_deg} deg) cannot reach "
                     f"{tuple(target_xyz)} pointing down: best miss {best[0] * 1000:.1f} mm, "
                     f"tilt {np.degrees(best[1]):.1f} deg; move the base or the target")


def _dls(p: _Panda, q: np.ndarray, target: np.ndarray, opening: float, iters: int = 200,
         damping: float = 0.05, pull: float = 0.1, max_step: float = 0.2) -> tuple[np.ndarray, float, float]:
    """Iterate DLS from ``q``; returns the joints, position miss (m) and tilt (rad)."""
    mj = _mujoco()
    m, d = p.model, p.data
    jacp, jacr = np.zeros((3, m.nv)), np.zeros((3, m.nv))
    home = np.asarray(PANDA_HOME, float)
    lo, hi = p.limits[:, 0] + 1e-6, p.limits[:, 1] - 1e-6
    q = np.clip(q.astype(float), lo, hi)
    for _ in range(iters):
        _pose(p, q, opening)
        tip = _tip_local(p)
        # (approach x down) lies in the xy plane; rotating about it aligns the fingers with
        # -z, and leaving world-z rotation out frees the gripper's yaw for the null space.
        err = np.concatenate([target - tip, np.cross(d.xmat[p.hand].reshape(3, 3)[:, 2], _DOWN)[:2]])
        if np.linalg.norm(err[:3]) < 1e-4 and np.linalg.norm(err[3:]) < 1e-4:
            break
        mj.mj_comPos(m, d)  # mj_jac reads cdof-derived quantities that mj_kinematics skips
        mj.mj_jac(m, d, jacp, jacr, tip, p.hand)
        jac = np.vstack([jacp[:, p.arm_dofs], jacr[:2, p.arm_dofs]])
        inv = jac.T @ np.linalg.inv(jac @ jac.T + damping**2 * np.eye(5))
        # an undamped projector: the damped one would leak the home pull into the task
        step = inv @ err + (np.eye(7) - np.linalg.pinv(jac) @ jac) @ (pull * (home - q))
        step *= min(1.0, max_step / (np.abs(step).max() + 1e-12))
        q = np.clip(q + step, lo, hi)
    _pose(p, q, opening)
    axis = d.xmat[p.hand].reshape(3, 3)[:, 2]
    return q, float(np.linalg.norm(target - _tip_local(p))), float(np.arccos(np.clip(-axis[2], -1, 1)))
