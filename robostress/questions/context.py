"""What a question generator can look at in one frame: the plan, its ground truth, helpers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from robostress.render.camera import project
from robostress.render.frame import Frame, FrameArrays
from robostress.scene.objects import get_category
from robostress.scene.plan import SceneObject, ScenePlan

MIN_VISIBLE_PX = 12  # below this an object counts as not visible in the image


def desc(o: SceneObject) -> str:
    """How questions name an object: colour and category (unique within a clean scene)."""
    return f"the {o.material.color_name} {o.category}"


def nearest_palette_name(rgb: tuple[float, float, float]) -> str:
    """Name of the palette colour closest to a linear albedo (log-space distance)."""
    from robostress.scene.sample import PALETTE

    x = np.log(np.asarray(rgb) + 0.01)
    return min(PALETTE, key=lambda k: float(np.sum((np.log(np.asarray(PALETTE[k]) + 0.01) - x) ** 2)))


def colour_defined(o: SceneObject) -> bool:
    """Whether an object still has the colour its name says (not glass, not blended away)."""
    m = o.material
    if m.transmission >= 0.5:
        return False
    eff = tuple(float(c) * m.albedo_scale for c in m.rgb)
    return nearest_palette_name(eff) == m.color_name  # type: ignore[arg-type]


@dataclass
class FrameContext:
    """A rendered frame with its plan and ground truth."""

    plan: ScenePlan
    frame: Frame
    arrays: FrameArrays | None = None

    def number(self, entity_id: str) -> int:
        """Instance number of an entity in this frame's masks (0 if absent)."""
        for k, v in self.frame.id_map.items():
            if v == entity_id:
                return int(k)
        return 0

    def visible_px(self, oid: str) -> int:
        """Visible pixels of an object in this frame."""
        try:
            return self.frame.gt(oid).visible_px
        except KeyError:
            return 0

    def visible(self, oid: str) -> bool:
        """Whether an object is visible enough to be asked about."""
        return self.visible_px(oid) >= MIN_VISIBLE_PX

    def centroid(self, oid: str) -> tuple[float, float] | None:
        """Visible centroid (pixels) of an object."""
        try:
            return self.frame.gt(oid).centroid
        except KeyError:
            return None

    def camera_depth(self, oid: str) -> float:
        """Depth of an object's centre along the camera axis (metres)."""
        o = self.plan.object(oid)
        c = np.array([[o.position[0], o.position[1], o.position[2] + o.size[2] / 2]])
        return float(project(self.plan.camera, c, self.frame.width, self.frame.height)[1][0])

    def resting_on(self, oid: str) -> list[SceneObject]:
        """Objects directly on top of ``oid``."""
        return [o for o in self.plan.objects if o.support_id == oid]

    def matches(self, colour: str, category: str) -> list[SceneObject]:
        """Objects of this colour name and category."""
        return [o for o in self.plan.objects if o.material.color_name == colour and o.category == category]

    def support_word(self, support_id: str) -> str:
        """'the table', 'the counter', 'the shelf'."""
        return f"the {self.plan.support(support_id).kind}"

    def plural(self, category: str) -> str:
        """Plural of a category."""
        return get_category(category).plural
