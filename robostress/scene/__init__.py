"""Scene plans, the procedural object library and scene-family sampling."""

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
    Room,
    SceneObject,
    ScenePlan,
    Support,
    Texture,
)
from robostress.scene.sample import PALETTE, FamilySpec, load_family, sample_scene

__all__ = [
    "CATEGORIES", "PALETTE", "Camera", "Caster", "CategorySpec", "Deformation", "FamilySpec", "Gripper",
    "Light", "Material", "Mesh", "Room", "SceneObject", "ScenePlan", "Support", "Texture", "get_category",
    "load_family", "object_mesh", "sample_scene", "world_extent", "world_mesh",
]
