"""User-facing errors. The CLI turns these into one clear message and a non-zero exit."""

from __future__ import annotations


class RobostressError(Exception):
    """Base class for errors caused by the user's input or environment, not by a bug."""

    exit_code = 2


class ConfigError(RobostressError):
    """A configuration value is invalid (unknown name, out-of-range value, ...)."""


class DataError(RobostressError):
    """A file on disk is missing, corrupt, of an unknown schema version, or inconsistent."""


class LayoutError(RobostressError):
    """A scene family cannot be laid out (objects do not fit on their supports)."""


class StressNotApplicable(Exception):
    """Raised by a stress that cannot be realised in a given scene; carries the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BackendError(RobostressError):
    """A model backend cannot be created or reached."""
