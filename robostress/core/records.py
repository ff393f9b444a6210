"""Records shared by every layer: the frozen base and the stress record a frame carries."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

MAX_SEVERITY = 5
COMPOUND_JOIN = "+"  # joins the two factors' dimensions and sub-types in a compound's labels


class Frozen(BaseModel):
    """Base for all plan records: immutable, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class OmitNone(Frozen):
    """A record whose optional fields named in ``omit_if_none`` are left out of its dump while
    None: a field added later (a compound frame's factors) leaves every older record, its JSON
    line and so every hash over it, byte for byte as it was."""

    omit_if_none: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        out: dict[str, Any] = handler(self)
        for name in self.omit_if_none:
            if name in out and out[name] is None:
                del out[name]
        return out


class StressRecord(OmitNone):
    """What was asked of a frame's stress and what the render realised.

    A compound frame's record joins its two factors' labels with '+' in taxonomy order
    ('lighting+viewpoint', 'global_underexposure+small_scale'), takes the larger of their
    severities as its own and holds each factor's own record (severity, parameters, realised
    measure) in ``factors``.
    """

    omit_if_none: ClassVar[tuple[str, ...]] = ("factors",)

    dimension: str = Field(description="'none' for a clean frame")
    subtype: str = Field(description="'none' for a clean frame")
    severity: int = Field(ge=0, le=MAX_SEVERITY)
    params: dict[str, Any] = Field(default_factory=dict, description="requested physical parameters")
    measure: str | None = Field(default=None, description="name of the realised measure")
    realised: float | None = Field(default=None, description="realised measure from the render")
    skipped: str | None = Field(default=None, description="why the stress could not be realised")
    factors: tuple[StressRecord, StressRecord] | None = Field(
        default=None, description="a compound's two single-factor records, in taxonomy order (None: single)")

    @property
    def is_compound(self) -> bool:
        """Whether this record applies two factors at once."""
        return self.factors is not None


CLEAN = StressRecord(dimension="none", subtype="none", severity=0)
