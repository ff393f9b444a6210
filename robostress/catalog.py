"""Locate the user-editable catalogs (scenes/, renderers/, agents/, leaderboards/).

They are the top-level folders of the repository, reached through the symbolic links in
``robostress/_catalog/``; a wheel copies them there as package data, so an installed
robostress finds them at the same place. (Looking next to the package instead would pick up
unrelated top-level packages such as the OpenAI Agents SDK's ``agents``.)
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
    root = _PKG / "_catalog" / name
    if not root.is_dir():
        raise ConfigError(f"catalog folder {name!r} is missing from this robostress installation ({root})")
    return root


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
