"""Frame records (what ``frames.jsonl`` holds) and the in-memory ground-truth arrays."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from pydantic import Field

from robostress.core.records import Frozen, OmitNone, StressRecord

FRAME_SCHEMA_VERSION = 2


class ObjectGT(Frozen):
    """Exact per-object ground truth of one frame (pixels of a width x height image)."""

    id: str
    visible_px: int = Field(description="pixels where this object is the first surface hit")
    amodal_px: int = Field(description="in-frame pixels the object would cover if nothing occluded it")
    amodal_total_px: int = Field(description="amodal pixels including the part outside the frame")
    visible_fraction: float = Field(description="visible_px / amodal_px (occlusion only), 0 if amodal_px is 0")
    out_of_frame_fraction: float = Field(description="share of the amodal silhouette outside the frame")
    bbox: tuple[int, int, int, int] | None = Field(description="visible box x1,y1,x2,y2 (inclusive px)")
    centroid: tuple[float, float] | None = Field(description="visible centroid x, y in pixels")
    contrast: float | None = Field(default=None, description="photometric visibility: mean CIELAB delta E "
                                   "of its visible pixels to the mean of a ring around them (None: not seen)")


class Frame(OmitNone):
    """One rendered image of a (possibly stressed) scene, with pointers to its ground truth."""

    omit_if_none: ClassVar[tuple[str, ...]] = ("factor_frame_ids",)

    schema_version: int = FRAME_SCHEMA_VERSION
    frame_id: str
    scene_id: str
    clean_frame_id: str = Field(description="id of the clean twin (itself for a clean frame)")
    factor_frame_ids: tuple[str, str] | None = Field(
        default=None, description="a compound frame's two single-factor twins, in taxonomy order (None: not compound)")
    stress: StressRecord
    plan_hash: str = Field(description="content hash of the rendered ScenePlan")
    width: int
    height: int
    image: str = Field(description="RGB PNG, path relative to the benchmark root")
    mask: str = Field(description="16-bit instance-id PNG (0 = background)")
    depth: str = Field(description="16-bit PNG, ray distance in millimetres (0 = no hit)")
    free: str = Field(description="16-bit PNG: instance id of the support where free space is, else 0")
    hashes: dict[str, str] = Field(description="sha256 of each file above, by field name")
    id_map: dict[str, str] = Field(description="instance number (as string) -> entity id")
    objects: tuple[ObjectGT, ...]
    render: dict[str, object] = Field(description="variant, spp, sampler, seed, cache key")

    def gt(self, object_id: str) -> ObjectGT:
        """Ground truth of ``object_id`` (KeyError if absent)."""
        for o in self.objects:
            if o.id == object_id:
                return o
        raise KeyError(object_id)


@dataclass
class FrameArrays:
    """The pixel-level outputs of one render (what measures and question generators read)."""

    rgb: np.ndarray  # H x W x 3 uint8, sRGB: exactly what a model sees
    ids: np.ndarray  # H x W uint16 instance numbers, 0 = background
    depth: np.ndarray  # H x W float32 ray distance in metres, 0 = no hit
    free: np.ndarray  # H x W uint16: support instance number where free space is, else 0
    id_map: dict[int, str]  # instance number -> entity id
    amodal: dict[str, np.ndarray] = field(default_factory=dict)  # object id -> in-frame bool mask
    amodal_total: dict[str, int] = field(default_factory=dict)  # object id -> px incl. outside

    def mask_of(self, entity_id: str) -> np.ndarray:
        """Visible (modal) bool mask of an entity."""
        for k, v in self.id_map.items():
            if v == entity_id:
                return self.ids == k
        return np.zeros(self.ids.shape, dtype=bool)
