"""Records shared by every layer: the frozen base and the stress record a frame carries."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_SEVERITY = 5


class Frozen(BaseModel):
    """Base for all plan records: immutable, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class StressRecord(Frozen):
    """What was asked of a frame's stress and what the render realised."""

    dimension: str = Field(description="'none' for a clean frame")
    subtype: str = Field(description="'none' for a clean frame")
    severity: int = Field(ge=0, le=MAX_SEVERITY)
    params: dict[str, Any] = Field(default_factory=dict, description="requested physical parameters")
    measure: str | None = Field(default=None, description="name of the realised measure")
    realised: float | None = Field(default=None, description="realised measure from the render")
    skipped: str | None = Field(default=None, description="why the stress could not be realised")


CLEAN = StressRecord(dimension="none", subtype="none", severity=0)
