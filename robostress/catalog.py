"""Locate the user-editable catalogs (scenes/, renderers/, agents/, leaderboards/).

In a source checkout they are the top-level folders of the repository; in an installed wheel
they ship as package data under ``robostress/_catalog/`` (see pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

from robostress.errors import ConfigError

CATALOGS = ("scenes", "renderers", "agents", "leaderboards")
_PKG = Path(__file__).resolve().parent


def catalog_dir(name: str) -> Path:
    """Directory of catalog ``name`` (source tree first, then the installed copy)."""
    if name not in CATALOGS:
        raise ConfigError(f"unknown catalog {name!r}; choose one of: {', '.join(CATALOGS)}")
    for root in (_PKG.parent / name, _PKG / "_catalog" / name):
        if root.is_dir():
            return root
    raise ConfigError(f"catalog folder {name!r} not found next to the robostress package")


def catalog_entry(name: str, entry: str, suffix: str = ".yaml") -> Path:
    """Path of ``entry`` in catalog ``name``; ConfigError listing the entries if absent."""
    root = catalog_dir(name)
    if "/" in entry or "\\" in entry or entry.startswith("."):
        raise ConfigError(f"invalid {name} entry name {entry!r}")
    path = root / f"{entry}{suffix}"
    if not path.is_file():
        have = sorted(p.stem for p in root.glob(f"*{suffix}"))
        raise ConfigError(f"unknown {name[:-1]} {entry!r}; choose one of: {', '.join(have)}")
    return path
