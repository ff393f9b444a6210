"""Scene plans, the procedural object library and scene-family sampling."""

from robostress.core.colour import PALETTE
from robostress.scene.family import FamilySpec, load_family
from robostress.scene.objects import (
    CATEGORIES,
    CategorySpec,
    Mesh,
    get_category,
    object_mesh,
    world_extent,
    world_mesh,
)
from robostress.scene.plan import (
    Camera,
    Caster,
    Deformation,
    Gripper,
    Light,
    Material,
    Robot,
    Room,
    SceneObject,
    ScenePlan,
    Support,
    Texture,
)
from robostress.scene.robot import (
    RobotBox,
    RobotPart,
    fingertip_center,
    robot_boxes,
    robot_intersects_box,
    robot_parts,
    solve_reach,
)
from robostress.scene.sample import sample_scene

__all__ = [
    "CATEGORIES", "PALETTE", "Camera", "Caster", "CategorySpec", "Deformation", "FamilySpec", "Gripper",
    "Light", "Material", "Mesh", "Robot", "RobotBox", "RobotPart", "Room", "SceneObject", "ScenePlan",
    "Support", "Texture", "fingertip_center", "get_category", "load_family", "object_mesh", "robot_boxes",
    "robot_intersects_box", "robot_parts", "sample_scene", "solve_reach", "world_extent", "world_mesh",
]
